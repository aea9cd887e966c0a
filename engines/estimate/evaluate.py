"""How well the shipped estimators read held-out clips, in each render look, next to the
trivial answers (one flat depth; every pixel floor) so the figures have a floor to beat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..media.video import read_video
from ..metrics import class_overlaps, si_rmse
from ..sim.dataset import read_manifest
from . import api
from .data import RENDERS, clip_classes
from .model import CLASSES

LOOKS = {"rgb.mp4": "real", "rgb_plain.mp4": "plain"}


class Tally:
    """Intersections and unions per class, summed over every pixel seen."""

    def __init__(self) -> None:
        self.inter = np.zeros(len(CLASSES))
        self.union = np.zeros(len(CLASSES))

    def add(self, pred: np.ndarray, truth: np.ndarray) -> None:
        inter, union = class_overlaps(torch.from_numpy(pred), torch.from_numpy(truth), len(CLASSES))
        self.inter += inter.numpy()
        self.union += union.numpy()

    def per_class(self) -> dict[str, float]:
        return {CLASSES[c]: round(float(self.inter[c] / self.union[c]), 4)
                for c in range(len(CLASSES)) if self.union[c]}

    def miou(self) -> float:
        ious = list(self.per_class().values())
        return round(float(np.mean(ious)), 4) if ious else float("nan")


def evaluate(data: Path, clips: int = 0, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """si-RMSE (log depth) and abs-rel of the depth estimator, mIoU of the segmentation
    estimator, per look, over the clips of ``data``'s manifest."""
    records = read_manifest(data)[: clips or None]
    if not records:
        raise ValueError(f"{data}: no clips in its manifest.jsonl")
    tasks = api.installed()
    si: dict[str, list[float]] = {"flat": []}
    rel: dict[str, list[float]] = {}
    tallies = {"all floor": Tally()}
    for n, record in enumerate(records):
        clip = data / "clips" / record["id"]
        truth = np.load(clip / "depth.npy").astype(np.float32)
        labels = clip_classes(clip)
        si["flat"] += si_rmse(torch.ones_like(torch.from_numpy(truth)), torch.from_numpy(truth)).tolist()
        tallies["all floor"].add(np.full_like(labels, CLASSES.index("floor")), labels)
        for render in RENDERS:
            look = LOOKS[render]
            frames = read_video(clip / render, truth.shape[0])[0]
            if "depth" in tasks:
                pred = api.depth(frames)
                si.setdefault(look, []).extend(si_rmse(torch.from_numpy(pred), torch.from_numpy(truth)).tolist())
                valid = truth > 0
                rel.setdefault(look, []).append(float(np.mean(np.abs(pred[valid] - truth[valid]) / truth[valid])))
            if "seg" in tasks:
                tallies.setdefault(look, Tally()).add(api.classes(frames), labels)
        if progress:
            progress(n + 1, len(records))
    return {
        "clips": len(records),
        "depth": {"si_rmse": {k: round(float(np.mean(v)), 4) for k, v in si.items()},
                  "abs_rel": {k: round(float(np.mean(v)), 4) for k, v in rel.items()}},
        "seg": {"miou": {k: t.miou() for k, t in tallies.items()},
                "per_class": {k: t.per_class() for k, t in tallies.items()}},
    }
