"""Serving a synthetic dataset to training code as torch tensors.

Each item is a random window of frames and a random crop of one clip (seeded, so an epoch
can be replayed), with both RGB styles, the controls, the caption, the actions and the
camera. Only clips in the manifest are read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..media.imageops import canny
from ..media.video import read_video
from .dataset import read_manifest


class ClipDataset:
    """``torch.utils.data.Dataset`` of clip windows from a dataset folder.

    Items hold ``rgb`` / ``plain`` float [3, T, H, W] in [0, 1], ``depth`` float [1, T, H, W]
    in metres, ``segmentation`` long [T, H, W], ``edges`` float [1, T, H, W] (Canny of the
    real style), ``actions`` float [T, A], ``intrinsics`` [3, 3] (shifted by the crop),
    ``world_from_camera`` [T, 4, 4] and ``caption``.
    """

    def __init__(self, root: Path, frames: int = 9, crop: int | None = None, seed: int = 0) -> None:
        self.root = Path(root)
        self.records = read_manifest(self.root)
        if not self.records:
            raise ValueError(f"{self.root}: no finished clips (no manifest lines)")
        shortest = min(r["frames"] for r in self.records)
        if not 1 <= frames <= shortest:
            raise ValueError(f"window of {frames} frames does not fit clips of {shortest} frames")
        self.frames, self.crop, self.seed, self.epoch = frames, crop, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """A new epoch draws new windows and crops."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        import torch

        record = self.records[index]
        folder = self.root / "clips" / record["id"]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        start = int(rng.integers(0, record["frames"] - self.frames + 1))
        window = slice(start, start + self.frames)
        real, _ = read_video(folder / "rgb.mp4")
        plain, _ = read_video(folder / "rgb_plain.mp4")
        depth = np.load(folder / "depth.npy")[window].astype(np.float32)
        seg = np.load(folder / "segmentation.npy")[window].astype(np.int64)
        camera = json.loads((folder / "camera.json").read_text())
        height, width = camera["height"], camera["width"]
        real, plain = real[window, :height, :width], plain[window, :height, :width]

        size = self.crop or min(height, width)
        y = int(rng.integers(0, height - size + 1))
        x = int(rng.integers(0, width - size + 1))
        box = (slice(None), slice(y, y + size), slice(x, x + size))
        real, plain, depth, seg = real[box], plain[box], depth[box], seg[box]
        intrinsics = np.array(camera["intrinsics"], np.float32)
        intrinsics[0, 2] -= x
        intrinsics[1, 2] -= y
        actions_file = folder / "actions.npy"
        actions = np.load(actions_file)[window] if actions_file.exists() else np.zeros((self.frames, 0))

        def video(frames: np.ndarray) -> torch.Tensor:  # [T, H, W, 3] uint8 -> [3, T, H, W]
            return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).float() / 255

        edges = canny(np.ascontiguousarray(real), 100, 200)
        return {
            "id": record["id"],
            "caption": record["caption"],
            "rgb": video(real),
            "plain": video(plain),
            "depth": torch.from_numpy(depth)[None],
            "segmentation": torch.from_numpy(seg),
            "edges": torch.from_numpy(edges)[None].float() / 255,
            "actions": torch.from_numpy(actions.astype(np.float32)),
            "intrinsics": torch.from_numpy(intrinsics),
            "world_from_camera": torch.tensor(camera["world_from_camera"][window], dtype=torch.float32),
        }
