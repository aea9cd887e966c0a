"""Port types: what flows along a connection or sits in an input.

Each port type names a Python type and, for plain values, the USD value type that stores
it in a graph file. Tensor-like types (Video, Latent, ...) have no USD type: they only
arrive through connections. A connection is allowed when the source's Python type is the
target's or a subclass of it, so a ``Control`` (a video with a kind) feeds any ``Video``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------- data types


@dataclass(frozen=True, eq=False)
class Video:
    """RGB frames, uint8 [T, H, W, 3], and their rate."""

    frames: np.ndarray
    fps: float

    def __post_init__(self) -> None:
        f = self.frames
        if f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3 or f.shape[0] == 0:
            raise ValueError(
                f"a Video needs uint8 frames shaped [T, H, W, 3] with T > 0, "
                f"got {f.dtype} {tuple(f.shape)}"
            )
        if not self.fps > 0:
            raise ValueError(f"a Video needs fps > 0, got {self.fps}")

    def summary(self) -> str:
        t, h, w, _ = self.frames.shape
        return f"Video {t}x{h}x{w} @ {self.fps:g} fps"


@dataclass(frozen=True, eq=False)
class Control(Video):
    """A control video for Transfer: edge, vis (blur), depth or seg."""

    kind: str = "edge"

    def summary(self) -> str:
        return f"Control[{self.kind}] " + super().summary().removeprefix("Video ")


@dataclass(frozen=True, eq=False)
class Latent:
    """Tokenizer latents, float [C, T', H', W'] (a DV tokenizer's quantized codes), with
    what the decoder needs to give back the clip: frame count (before padding) and fps."""

    values: np.ndarray
    tokenizer: str
    frames: int = 0
    fps: float = 24.0

    def summary(self) -> str:
        return f"Latent {tuple(self.values.shape)} from {self.tokenizer}"


@dataclass(frozen=True, eq=False)
class Tokens:
    """Discrete tokenizer indices, int [T', H', W']."""

    indices: np.ndarray
    tokenizer: str

    def summary(self) -> str:
        return f"Tokens {tuple(self.indices.shape)} from {self.tokenizer}"


@dataclass(frozen=True, eq=False)
class Prompt:
    """Text and, once encoded, its token embeddings [L, D]."""

    text: str
    embedding: np.ndarray | None = None

    def summary(self) -> str:
        text = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return f"Prompt {text!r}"


@dataclass(frozen=True, eq=False)
class WeightMap:
    """Per-location control weights, float [T, H, W] in [0, 1]."""

    weights: np.ndarray

    def summary(self) -> str:
        return f"WeightMap {tuple(self.weights.shape)}"


@dataclass(frozen=True, eq=False)
class Camera:
    """Per-frame world-from-camera poses [T, 4, 4] and pinhole intrinsics [3, 3]."""

    poses: np.ndarray
    intrinsics: np.ndarray

    def summary(self) -> str:
        return f"Camera {len(self.poses)} poses"


@dataclass(frozen=True, eq=False)
class Actions:
    """Per-step action vectors [T, A]; ``corners`` [T, 8, 3]: the world corners of the
    pusher's box at each frame, when the actions drive one (the robot's own pose)."""

    values: np.ndarray
    corners: np.ndarray | None = None

    def summary(self) -> str:
        return f"Actions {tuple(self.values.shape)}"


@dataclass(frozen=True, eq=False)
class Scene:
    """Scenes to simulate: USD physics files, or a seeded randomizer making one per index."""

    scenes: Any  # worldgraph.engines.sim.dataset.SceneSet

    def summary(self) -> str:
        return f"Scene x{len(self.scenes)}"


@dataclass(frozen=True, eq=False)
class Simulation:
    """How to simulate each scene (frames, fps, substeps, camera motion): made on demand."""

    jobs: Any  # worldgraph.engines.sim.dataset.ClipJobs

    def summary(self) -> str:
        s = self.jobs.settings
        return f"Simulation x{len(self.jobs)}, {s.frames} frames @ {s.fps:g} fps"


@dataclass(frozen=True, eq=False)
class Renders:
    """Simulation plus render settings: every clip, ready to be made on demand."""

    jobs: Any  # worldgraph.engines.sim.dataset.ClipJobs

    def summary(self) -> str:
        s = self.jobs.settings
        return f"Renders x{len(self.jobs)}, {s.width}x{s.height} {'+'.join(s.styles)}"


@dataclass(frozen=True, eq=False)
class Depth:
    """Depth in metres along the view axis, float32 [T, H, W]; 0 where nothing was hit."""

    metres: np.ndarray
    fps: float

    def summary(self) -> str:
        return f"Depth {tuple(self.metres.shape)}"


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Instance ids, uint16 [T, H, W] (0: background), and what prim each id is."""

    ids: np.ndarray
    paths: dict[int, str]
    fps: float

    def summary(self) -> str:
        return f"Segmentation {tuple(self.ids.shape)}, {len(self.paths)} instances"


@dataclass(frozen=True, eq=False)
class Verdict:
    """A guardrail's decision and why."""

    safe: bool
    reasons: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    stage: str = ""  # which check decided
    score: float | None = None
    guards: tuple[str, ...] = ()  # every stage: whether it ran, and with which settings

    def summary(self) -> str:
        ran = f" [{'; '.join(self.guards)}]" if self.guards else ""
        return ("safe" if self.safe else "blocked: " + "; ".join(self.reasons)) + ran


@dataclass(frozen=True, eq=False)
class Dataset:
    """A folder of clips with a manifest."""

    root: Path
    items: tuple[str, ...] = ()

    def summary(self) -> str:
        return f"Dataset {self.root.name} ({len(self.items)} items)"


# ---------------------------------------------------------------------------- port types


@dataclass(frozen=True)
class PortType:
    """A named port type: its Python type and, for plain values, its USD value type."""

    name: str
    py: type | tuple[type, ...]
    usd: str | None = None  # Sdf value type name; None = connection only
    doc: str = ""
    path: str | None = None  # "read": a file to read; "write": a file to write inside the output folder

    @property
    def connection_only(self) -> bool:
        return self.usd is None

    @property
    def py_types(self) -> tuple[type, ...]:
        return self.py if isinstance(self.py, tuple) else (self.py,)

    def accepts(self, source: PortType) -> bool:
        """Whether an output of type ``source`` may feed an input of this type."""
        return all(issubclass(s, self.py) for s in source.py_types)

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not a valid value of this type, or None when it is."""
        # bool is an int to Python, but never to a graph file
        ok = isinstance(value, self.py) and (
            not isinstance(value, bool) or bool in self.py_types
        )
        return None if ok else f"expected {self.name}, got {type(value).__name__} {value!r:.60}"

    def __str__(self) -> str:
        return self.name


INT = PortType("int", int, "int", "a whole number")
FLOAT = PortType("float", (int, float), "double", "a real number")
BOOL = PortType("bool", bool, "bool", "true or false")
STRING = PortType("string", str, "string", "text")
ENUM = PortType("enum", str, "token", "one of a fixed set of names")
ASSET = PortType(
    "asset", str, "asset", "a file to read; relative paths resolve from the graph's folder", path="read"
)
OUTPUT_FILE = PortType(
    "output_file", str, "string", "a file to write, relative to the output folder", path="write"
)
FILE = PortType("file", Path, None, "a file the graph wrote")

VIDEO = PortType("Video", Video, doc="RGB frames and fps")
CONTROL = PortType("Control", Control, doc="a control video (edge, vis, depth, seg)")
LATENT = PortType("Latent", Latent, doc="continuous latents")
TOKENS = PortType("Tokens", Tokens, doc="discrete token indices")
PROMPT = PortType("Prompt", Prompt, doc="text and its embedding")
WEIGHT_MAP = PortType("WeightMap", WeightMap, doc="per-location control weights")
CAMERA = PortType("Camera", Camera, doc="camera poses and intrinsics")
ACTIONS = PortType("Actions", Actions, doc="per-step actions")
SCENE = PortType("Scene", Scene, doc="USD physics scenes")
SIMULATION = PortType("Simulation", Simulation, doc="scenes with simulation settings")
RENDERS = PortType("Renders", Renders, doc="simulated scenes with render settings")
DEPTH = PortType("Depth", Depth, doc="depth in metres")
SEGMENTATION = PortType("Segmentation", Segmentation, doc="instance ids and their prim paths")
VERDICT = PortType("Verdict", Verdict, doc="a guardrail decision")
DATASET = PortType("Dataset", Dataset, doc="a folder of clips with a manifest")

ALL_TYPES: dict[str, PortType] = {
    t.name: t
    for t in (
        INT, FLOAT, BOOL, STRING, ENUM, ASSET, OUTPUT_FILE, FILE, VIDEO, CONTROL, LATENT,
        TOKENS, PROMPT, WEIGHT_MAP, CAMERA, ACTIONS, SCENE, SIMULATION, RENDERS, DEPTH,
        SEGMENTATION, VERDICT, DATASET,
    )
}


def path_problem(value: str, write: bool) -> str | None:
    """Why ``value`` cannot be a path input's value, or None when it can. Every path is free
    of control characters (NUL, newline, ...); a path to write (``write``) is also relative
    and stays inside the output folder: checked here, before anything runs, and again when
    the node writes (``Context.output_path``)."""
    if bad := next((c for c in value if unicodedata.category(c) == "Cc"), None):
        return f"path {value!r} holds the control character {bad!r}"
    if not write:
        return None
    if not value.strip():
        return "an output path must name a file or folder inside the output folder"
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).anchor:
        return f"output path {value!r} is absolute: give a path relative to the output folder"
    depth = 0
    for part in value.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
        elif part not in ("", "."):
            depth += 1
        if depth < 0:
            return f"output path {value!r} leaves the output folder ('..' above it)"
    if depth == 0:
        return f"output path {value!r} names the output folder itself"
    return None


def summarize(value: Any) -> str:
    """A short, human-readable description of a port value for messages and events."""
    if hasattr(value, "summary"):
        return str(value.summary())
    if isinstance(value, Path):
        return str(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
