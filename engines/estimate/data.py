"""Training frames for the estimators: both renders of every clip of a scene dataset, with
the simulator's depth and its segmentation turned into classes (floor, the body's shape, ...)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..media.files import atomic_output
from ..media.video import read_video
from ..sim.dataset import read_manifest
from .model import CLASSES

RENDERS = ("rgb.mp4", "rgb_plain.mp4")  # the `real` and `plain` looks: estimators must read both


def class_lookup(paths: dict[int, str], bodies: list[dict[str, Any]]) -> np.ndarray:
    """id -> class index for one clip: 0 background, the floor, each body's shape, else other."""
    shapes = {b["path"]: b.get("shape", "") for b in bodies}
    table = np.zeros(max(paths, default=0) + 1, np.uint8)
    for i, path in paths.items():
        name = "floor" if path.rstrip("/").endswith("floor") else shapes.get(path, "other")
        table[i] = CLASSES.index(name) if name in CLASSES else CLASSES.index("other")
    return table


def clip_classes(clip: Path) -> np.ndarray:
    """The clip's segmentation as class indices, uint8 [T, H, W]."""
    ids = np.load(clip / "segmentation.npy")
    paths = {int(k): v for k, v in json.loads((clip / "segmentation.json").read_text()).items()}
    bodies = json.loads((clip / "metadata.json").read_text()).get("bodies", [])
    return class_lookup(paths, bodies)[ids]


def build_cache(data: Path, out: Path, every: int = 3, progress: Callable[[int, int], None] | None = None) -> Path:
    """Every ``every``-th frame of each clip, in both looks, with depth (metres) and classes."""
    from safetensors.numpy import save_file

    records = read_manifest(data)
    if not records:
        raise ValueError(f"{data}: no clips in its manifest.jsonl")
    rgb, depth, classes = [], [], []
    for n, record in enumerate(records):
        clip = data / "clips" / record["id"]
        keep = slice(0, None, every)
        d = np.load(clip / "depth.npy")[keep].astype(np.float16)
        c = clip_classes(clip)[keep]
        for render in RENDERS:
            rgb.append(read_video(clip / render)[0][keep])
            depth.append(d)
            classes.append(c)
        if progress:
            progress(n + 1, len(records))
    with atomic_output(out) as tmp:
        save_file({"rgb": np.concatenate(rgb), "depth": np.concatenate(depth), "classes": np.concatenate(classes)},
                  str(tmp))
    return out


def load_cache(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path))
