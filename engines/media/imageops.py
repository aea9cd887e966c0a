"""Classic per-frame image operations: the control signals of Transfer and previews.

Presets follow Cosmos-Transfer1: Canny thresholds very_low 20/50 ... very_high 300/400,
bilateral blur low d15/σc100/σs50, medium 30/150/100, high 50/300/150.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

Progress = Callable[[int, int], None]  # (frames done, frames in all)

CANNY_PRESETS: dict[str, tuple[int, int]] = {
    "very_low": (20, 50),
    "low": (50, 100),
    "medium": (100, 200),
    "high": (200, 300),
    "very_high": (300, 400),
}

# (diameter, sigma colour, sigma space)
BLUR_PRESETS: dict[str, tuple[int, float, float]] = {
    "low": (15, 100.0, 50.0),
    "medium": (30, 150.0, 100.0),
    "high": (50, 300.0, 150.0),
}


def canny(frames: np.ndarray, low: int, high: int, progress: Progress | None = None) -> np.ndarray:
    """Edge maps [T, H, W] (0 or 255) of RGB frames [T, H, W, 3]."""
    if low >= high:
        raise ValueError(f"canny needs low < high thresholds, got {low} and {high}")
    edges = np.empty(frames.shape[:3], np.uint8)
    for i, frame in enumerate(frames):
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        edges[i] = cv2.Canny(grey, low, high)
        if progress:
            progress(i + 1, len(frames))
    return edges


def bilateral_blur(
    frames: np.ndarray,
    diameter: int,
    sigma_color: float,
    sigma_space: float,
    downscale: int = 1,
    progress: Progress | None = None,
) -> np.ndarray:
    """Edge-preserving blur of every frame, then a bicubic down-up by ``downscale`` (the
    "vis" control of Transfer keeps colour layout and drops detail)."""
    out = np.empty_like(frames)
    h, w = frames.shape[1:3]
    small = (max(1, round(w / downscale)), max(1, round(h / downscale)))
    for i, frame in enumerate(frames):
        blurred = cv2.bilateralFilter(frame, diameter, sigma_color, sigma_space)
        if downscale > 1:
            blurred = cv2.resize(blurred, small, interpolation=cv2.INTER_CUBIC)
            blurred = cv2.resize(blurred, (w, h), interpolation=cv2.INTER_CUBIC)
        out[i] = blurred
        if progress:
            progress(i + 1, len(frames))
    return out


def depth_to_grey(metres: np.ndarray) -> np.ndarray:
    """uint8 [T, H, W] of inverse depth, scaled over the whole clip so brightness is
    comparable between frames; pixels without depth (0) are black."""
    valid = metres > 0
    inverse = np.where(valid, 1.0 / np.where(valid, metres, 1.0), 0.0)
    if not valid.any():
        return np.zeros(metres.shape, np.uint8)
    lo, hi = inverse[valid].min(), inverse[valid].max()
    scaled = (inverse - lo) / max(hi - lo, 1e-6) * 215 + 40  # the farthest surface is not black
    return np.where(valid, scaled, 0).astype(np.uint8)


def segmentation_colours(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 [T, H, W, 3]: a random colour per instance id, background (0) black, as
    Cosmos-Transfer1 colours its masks (the colours mean nothing, the regions do)."""
    palette = rng.integers(40, 256, (int(ids.max()) + 1, 3), dtype=np.uint8)
    palette[0] = 0
    return palette[ids]


def contact_sheet(
    frames: np.ndarray, columns: int = 0, max_frames: int = 16, labels: bool = True
) -> np.ndarray:
    """One RGB image showing up to ``max_frames`` evenly spaced frames in a grid."""
    t, h, w, _ = frames.shape
    picks = np.unique(np.linspace(0, t - 1, min(t, max_frames)).round().astype(int))
    columns = columns or math.ceil(math.sqrt(len(picks)))
    rows = math.ceil(len(picks) / columns)
    gap = 2
    scale = max(1, 96 // max(h, w))  # tiny clips are upscaled so people can see them
    ch, cw = h * scale, w * scale
    sheet = np.full((rows * (ch + gap) + gap, columns * (cw + gap) + gap, 3), 32, np.uint8)
    for k, index in enumerate(picks):
        tile = cv2.resize(frames[index], (cw, ch), interpolation=cv2.INTER_NEAREST)
        if labels:
            _label(tile, str(index))
        y, x = gap + (k // columns) * (ch + gap), gap + (k % columns) * (cw + gap)
        sheet[y : y + ch, x : x + cw] = tile
    return sheet


def _label(tile: np.ndarray, text: str) -> None:
    """Frame number in the top-left corner, white on a dark box, sized by the tile's short
    side (a tile of stacked clips is tall, and a label sized by its height hid the top clip)."""
    scale = max(0.3, min(tile.shape[:2]) / 256)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(tile, (0, 0), (tw + 4, th + base + 4), (0, 0, 0), -1)
    cv2.putText(tile, text, (2, th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
