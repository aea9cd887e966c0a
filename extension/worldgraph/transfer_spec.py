"""``worldgraph transfer SPEC.json``: a Cosmos-Transfer1 ``controlnet_specs`` file turned
into a worldgraph graph (so it runs, caches and reports like any graph, and can be opened
in the editor), with every field checked and named when wrong.

The shape it accepts (paths relative to the spec's folder)::

    {"prompt": "...", "input_video_path": "in.mp4", "sigma_max": 70,
     "edge": {"control_weight": 0.5},                        # made from the input video
     "depth": {"control_weight": "mask.png", "input_control": "depth.mp4"}}

``control_weight`` is a number or a grey image (white: the weight 1, black: 0). Without
``input_control``, every control is made from the input video, as Cosmos-Transfer1 does:
vis and edge by bilateral blur and Canny, depth and seg by the shipped estimators (where
Cosmos runs Depth Anything and SAM 2).

Numbers are finite (``NaN`` and ``Infinity`` are refused with their field); a spec file is at
most ``MAX_BYTES`` (1 MiB) and its arrays and objects nest at most ``MAX_DEPTH`` (32) deep.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from pathlib import Path
from typing import Any

from worldgraph.nodes import Graph, default_registry
from worldgraph.nodes.errors import WorldgraphError
from worldgraph.nodes.types import path_problem

MODALITIES = ("vis", "edge", "depth", "seg")
TOP = {"prompt", "negative_prompt", "input_video_path", "sigma_max", "seed", "num_steps", "guidance", "frames",
       "blur_strength", "canny_threshold", *MODALITIES}
PER_MODALITY = {"control_weight", "input_control"}
NOT_SUPPORTED = {
    "control_weight_prompt": "needs a text-grounded segmenter (GroundingDINO + SAM2), which worldgraph does not "
                             "have; give control_weight a grey image painted where the control holds",
    "input_control_prompt": "needs a text-grounded segmenter, which worldgraph does not have; give input_control",
}
BLUR = {"very_low": "low", "low": "low", "medium": "medium", "high": "high", "very_high": "high"}  # ours has 3
CANNY = ("very_low", "low", "medium", "high", "very_high")
ESTIMATORS = {  # modality -> estimator node, its output, the node that turns it into a control
    "depth": ("worldgraph.controls.EstimateDepth", "depth", "worldgraph.controls.DepthVideo"),
    "seg": ("worldgraph.controls.EstimateSegmentation", "segmentation", "worldgraph.controls.SegmentationColors"),
}


MAX_BYTES = 2**20
MAX_DEPTH = 32  # a spec needs 2: the spec, a modality
_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # a JSON string (skipped) or a bracket


class SpecError(WorldgraphError):
    """A spec file that cannot be run; the message names the file and the field."""


def spec_graph(path: Path) -> Graph:
    """The graph that runs the spec at ``path``."""
    try:
        if (size := path.stat().st_size) > MAX_BYTES:
            raise SpecError(f"{path}: {size} bytes is more than a spec may hold ({MAX_BYTES})")
        text = path.read_text()
        if _nesting(text) > MAX_DEPTH:
            raise SpecError(f"{path}: arrays and objects nest more than {MAX_DEPTH} deep; a spec needs 2")
        spec = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SpecError(f"{path}: not a readable JSON spec ({e})") from None
    if not isinstance(spec, dict):
        raise SpecError(f"{path}: a spec is a JSON object with prompt, input_video_path and modalities")
    return _Builder(path, spec).graph


def _nesting(text: str) -> int:
    """How deep JSON arrays and objects nest in ``text``, counted up to ``MAX_DEPTH`` + 1
    (``json`` recurses once per level, so it is told before it runs out of stack)."""
    depth = 0
    for match in _BRACKET.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                break
        elif bracket in "]}":
            depth -= 1
    return depth


class _Builder:
    def __init__(self, path: Path, spec: dict[str, Any]) -> None:
        self.path, self.spec = path, spec
        self.graph = Graph("/Transfer", registry=default_registry(), base_dir=path.parent)
        self._check_keys(spec, TOP, "")
        given = [m for m in MODALITIES if m in spec]
        if not given:
            self.fail("", f"no modality: add one of {', '.join(MODALITIES)} (e.g. \"edge\": {{\"control_weight\": 1}})")
        prompt = self.field("prompt", str, "")
        if not prompt.strip():
            self.fail("prompt", "is empty: say what the clip should look like")
        self.add("guard", "worldgraph.guard.PromptGuard", (0, 300), text=prompt)
        sigma_max = float(self.field("sigma_max", numbers.Real, 70.0))
        values = {"steps": self.field("num_steps", int, 35),
                  "guidance": float(self.field("guidance", numbers.Real, 0.0)),
                  "seed": self.field("seed", int, 1), "frames": self.field("frames", int, 17),
                  "negative": self.field("negative_prompt", str, ""), "sigma_max": min(sigma_max, 80.0)}
        self.add("transfer", "worldgraph.transfer.Transfer", (600, 150), **values)
        self.graph.connect("guard", "prompt", "transfer", "prompt")
        video = self.field("input_video_path", str, "")
        if video:
            self.add("input", "worldgraph.io.LoadVideo", (0, 0), path=self.asset("input_video_path", video))
            if sigma_max < 80:  # as in Cosmos: from 80 up the input video is not used
                self.graph.connect("input", "video", "transfer", "video")
        for i, m in enumerate(given):
            self.modality(m, video, i)
        first = "input" if video else f"{given[0]}_control"
        self.add("decode", "worldgraph.tokenizer.Decode", (850, 150))
        self.add("face_blur", "worldgraph.guard.FaceBlur", (1100, 150))
        self.add("save", "worldgraph.io.SaveVideo", (1350, 100), path="output.mp4")
        self.add("compare", "worldgraph.io.Stack", (1350, 250))
        self.add("sheet", "worldgraph.io.ContactSheet", (1600, 250), path="output.png")
        c = self.graph.connect
        c("transfer", "latent", "decode", "latent")
        c("decode", "video", "face_blur", "video")
        c("face_blur", "video", "save", "video")
        c(first, "video" if video else "control", "compare", "top")
        c("face_blur", "video", "compare", "bottom")
        c("compare", "video", "sheet", "video")

    def modality(self, m: str, video: str, row: int) -> None:
        entry = self.spec[m]
        if not isinstance(entry, dict):
            self.fail(m, "must be an object such as {\"control_weight\": 0.5}")
        self._check_keys(entry, PER_MODALITY, f"{m}.")
        node, pos = f"{m}_control", (300, 150 * row)
        if "input_control" in entry:
            control = self.asset(f"{m}.input_control", self.field("input_control", str, "", entry, f"{m}."))
            self.add(node, "worldgraph.controls.LoadControl", pos, path=control, kind=m)
            output = "control"
        elif m == "vis" and video:
            self.add(node, "worldgraph.controls.BilateralBlur", pos, preset=BLUR[self.choice("blur_strength", BLUR)])
            self.graph.connect("input", "video", node, "video")
            output = "blurred"
        elif m == "edge" and video:
            self.add(node, "worldgraph.controls.Canny", pos, preset=self.choice("canny_threshold", CANNY))
            self.graph.connect("input", "video", node, "video")
            output = "edges"
        elif m in ESTIMATORS and video:
            estimator, result, colour = ESTIMATORS[m]
            self.add(f"{m}_estimate", estimator, (150, 150 * row + 60))
            self.add(node, colour, pos)
            self.graph.connect("input", "video", f"{m}_estimate", "video")
            self.graph.connect(f"{m}_estimate", result, node, result)
            output = "control"
        else:
            self.fail(f"{m}.input_control", f"missing: give a {m} video or input_video_path to make it from")
        self.graph.connect(node, output, "transfer", m)
        self.weight(m, entry, node, output)

    def weight(self, m: str, entry: dict[str, Any], node: str, output: str) -> None:
        weight = entry.get("control_weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real | str):
            self.fail(f"{m}.control_weight", f"must be a number or a grey image's path, got {json.dumps(weight)}")
        if isinstance(weight, float) and not math.isfinite(weight):
            self.fail(f"{m}.control_weight", f"must be a finite number, got {json.dumps(weight)}")
        if isinstance(weight, str):
            image = self.asset(f"{m}.control_weight", weight)
            self.add(f"{m}_weight", "worldgraph.controls.WeightMap", (450, 150 * MODALITIES.index(m) + 60),
                     mode="image", image=image, value=1.0, outside=0.0)
            self.graph.connect(node, output, f"{m}_weight", "like")
            self.graph.connect(f"{m}_weight", "map", "transfer", f"{m}_map")
        elif not 0 <= weight <= 10:
            self.fail(f"{m}.control_weight", f"must be within 0..10, got {weight}")
        else:
            self.graph.set_value("transfer", f"{m}_weight", float(weight))

    # ------------------------------------------------------------------ helpers

    def add(self, name: str, type_id: str, pos: tuple[int, int], **values: Any) -> None:
        self.graph.add_node(name, type_id, values=values, pos=pos)

    def asset(self, field: str, value: str) -> str:
        if problem := path_problem(value, write=False):
            self.fail(field, problem)
        if not (self.path.parent / value).exists():
            self.fail(field, f"{value!r}: no such file (paths are relative to the spec's folder)")
        return value

    def field(self, key: str, kind: Any, default: Any, entry: dict[str, Any] | None = None, prefix: str = "") -> Any:
        value = (self.spec if entry is None else entry).get(key, default)
        if isinstance(value, bool) or not isinstance(value, kind):
            self.fail(prefix + key, f"has the wrong type: {json.dumps(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(prefix + key, f"must be a finite number, got {json.dumps(value)}")
        return value

    def choice(self, key: str, allowed: Any) -> str:
        value = self.field(key, str, "medium")
        if value not in allowed:
            self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return str(value)

    def _check_keys(self, entry: dict[str, Any], allowed: set[str], prefix: str) -> None:
        for key in entry:
            if key in NOT_SUPPORTED:
                self.fail(prefix + key, NOT_SUPPORTED[key])
            if key not in allowed:
                self.fail(prefix + key, f"unknown field; {'a modality' if prefix else 'a spec'} takes "
                                        f"{', '.join(sorted(allowed))}")

    def fail(self, field: str, message: str) -> Any:
        raise SpecError(f"{self.path}: {field + ' ' if field else ''}{message}")
