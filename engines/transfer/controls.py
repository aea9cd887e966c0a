"""Control videos made from a scene dataset's clip, with the augmentation training uses:
a random blur strength for vis and random Canny thresholds for edge (as the
worldgraph.controls nodes make them at inference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..media.imageops import BLUR_PRESETS, CANNY_PRESETS, bilateral_blur, canny, depth_to_grey, segmentation_colours
from ..media.video import read_video

DOWNSCALES = (2, 4, 8)


def grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=-1)


def control_video(modality: str, clip: Path, start: int, frames: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 [frames, H, W, 3]: ``modality``'s control for frames start.. of a dataset clip,
    made from its plain render (vis, edge) or its depth / segmentation (depth, seg)."""
    window = slice(start, start + frames)
    if modality in ("vis", "edge"):
        plain = read_video(clip / "rgb_plain.mp4")[0][window]
        if modality == "vis":
            preset = BLUR_PRESETS[str(rng.choice(list(BLUR_PRESETS)))]
            return bilateral_blur(plain, *preset, downscale=int(rng.choice(DOWNSCALES)))
        low, high = CANNY_PRESETS[str(rng.choice(list(CANNY_PRESETS)))]
        return grey_to_rgb(canny(plain, low, high))
    if modality == "depth":
        return grey_to_rgb(depth_to_grey(np.load(clip / "depth.npy")[window].astype(np.float32)))
    if modality == "seg":
        return segmentation_colours(np.load(clip / "segmentation.npy")[window], rng)
    raise ValueError(f"unknown modality {modality!r}")
