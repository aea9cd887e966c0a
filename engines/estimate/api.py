"""The shipped estimators: depth in metres and segmentation classes from RGB frames of any
size (padded to the net's multiple of 8 and cropped back), checked with messages that name
the input."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import catalog
from .. import weights as files
from ..runtime.spec import BATCH as BATCH_AXIS
from ..runtime.spec import Axis, Part, Port
from .model import CLASSES, TASKS, Estimator, EstimatorConfig

BATCH = 64  # frames per call: the exported engines' batch limit
MULTIPLE = 8  # frame sides are padded to this: the nets halve up to 3 times
Run = Callable[[torch.Tensor], torch.Tensor]


class EstimatorInputError(ValueError):
    """Frames an estimator cannot read; the message says what it takes."""


def checkpoint_name(task: str) -> str:
    return f"estimate-{task}"


def installed() -> list[str]:
    """The tasks (depth, seg) the catalog has an estimator for."""
    have = set(catalog.names("estimator"))
    return [t for t in TASKS if checkpoint_name(t) in have]


def meta(task: str, folder: Path | None = None) -> dict[str, object]:
    return files.read_meta(catalog.find(checkpoint_name(task), "estimator", folder).card)


def load(task: str, folder: Path | None = None) -> Estimator:
    """The ``task`` estimator (depth or seg), fp32, eval mode; ``folder``: look only there."""
    if task not in TASKS:
        raise EstimatorInputError(f"unknown estimator task {task!r}; tasks: {', '.join(TASKS)}")
    entry = catalog.find(checkpoint_name(task), "estimator", folder)
    return load_card(entry.card, entry.version)


@cache
def load_card(json_path: Path, version: str = "") -> Estimator:
    info = files.read_meta(json_path)
    config = info.get("config")
    cfg = EstimatorConfig.from_json(config if isinstance(config, dict) else {})
    net = files.load_into(Estimator(cfg), json_path.with_suffix(".safetensors"), info)
    assert isinstance(net, Estimator)
    return net


def part(task: str) -> Part:
    """The engine part of the ``task`` estimator: RGB in [0, 1] -> log-depth or class logits."""

    def source() -> dict[str, Any]:
        info = meta(task)
        return {"sha256": str(info.get("sha256", "")), "config": info.get("config")}

    side = Axis("height", 8, 64, 512, step=8), Axis("width", 8, 64, 512, step=8)
    what = "log-depth in metres [B, 1, H, W]" if task == "depth" else "class logits [B, classes, H, W]"
    return Part(f"{checkpoint_name(task)}.net", f"RGB in [0, 1] -> {what}",
                (Port("rgb", "float32", (BATCH_AXIS, 3, *side)),), ("out",), lambda: load(task), source,
                ("worldgraph.engines.estimate.model",))


def run_frames(frames: np.ndarray, run: Run, multiple: int = MULTIPLE) -> torch.Tensor:
    """``run`` over uint8 frames [T, H, W, 3] in batches; -> its outputs [T, C, H, W]."""
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or not frames.shape[0]:
        raise EstimatorInputError(f"frames must be uint8 [T, H, W, 3] with T > 0, got {frames.dtype} "
                                  f"{list(frames.shape)}")
    t, h, w, _ = frames.shape
    if min(h, w) < multiple:
        raise EstimatorInputError(f"frames of {w}x{h} are too small: the estimators take sides of {multiple} or more")
    pad_h, pad_w = -h % multiple, -w % multiple
    outs = []
    for start in range(0, t, BATCH):
        x = torch.from_numpy(frames[start:start + BATCH]).permute(0, 3, 1, 2).float() / 255  # [B, 3, H, W]
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        outs.append(run(x)[..., :h, :w])
    return torch.cat(outs)


def torch_run(task: str) -> Run:
    net = load(task)

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return net(x)

    return run


def depth(frames: np.ndarray, run: Run | None = None) -> np.ndarray:
    """Depth in metres, float32 [T, H, W] (the scale is what the simulated scenes taught)."""
    log_depth = run_frames(frames, run or torch_run("depth"))[:, 0]
    return log_depth.exp().numpy().astype(np.float32)


def classes(frames: np.ndarray, run: Run | None = None) -> np.ndarray:
    """Class index per pixel, uint8 [T, H, W] (indices into CLASSES)."""
    return run_frames(frames, run or torch_run("seg")).argmax(1).numpy().astype(np.uint8)


def as_segmentation(labels: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Class labels as a segmentation: one id per class present (id = class index, so ids are
    the same in every frame), named /estimated/<class>; background stays 0."""
    present = [int(c) for c in np.unique(labels) if c != 0]
    return labels.astype(np.uint16), {c: f"/estimated/{CLASSES[c]}" for c in present}
