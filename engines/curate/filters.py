"""Per-clip measurements and the filters that drop clips on them.

Every measurement is a plain function of the frames (uint8 [T, H, W, 3]); ``check`` applies
the thresholds and names the first filter a clip fails with the value that failed it.

- motion: dense optical flow (OpenCV Farneback) between neighbouring frames, magnitude as a
  fraction of the frame width per frame; ``motion_global`` is its mean over the clip,
  ``motion_patch_min`` the smallest mean over a grid of patches (a partly frozen picture).
- quality: ``sharpness`` (variance of the Laplacian of the grey frames, 0-255 scale),
  ``brightness`` (mean luma, 0..1) and ``black_fraction`` (frames whose mean luma is
  under ``black_level``).
- overlay text: ``text_area``, the fraction of the frame covered by text-like boxes (dense
  short strokes in a horizontal band) found on the pixels that stay put through the clip
  (an overlay stays while the scene under it moves; with a still camera the box shape
  alone decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

FLOW_SIZE = 64  # flow is computed on frames scaled to this width


def grey(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


def motion(frames: np.ndarray, patches: int = 4, stride: int = 1) -> tuple[float, float]:
    """(global mean flow, smallest per-patch mean flow), in frame widths per frame."""
    g = grey(frames)
    h, w = g.shape[1:]
    size = (FLOW_SIZE, max(8, round(FLOW_SIZE * h / w)))
    small = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in g]
    total = np.zeros(size[::-1], np.float64)
    pairs = range(0, len(small) - 1, stride)
    for i in pairs:
        flow = cv2.calcOpticalFlowFarneback(small[i], small[i + 1], None, 0.5, 3, 9, 3, 5, 1.1, 0)  # type: ignore[call-overload]
        total += np.hypot(flow[..., 0], flow[..., 1])
    mean = total / max(1, len(pairs)) / FLOW_SIZE  # [h, w] frame widths per frame
    if len(small) < 2:
        return 0.0, 0.0
    ph, pw = mean.shape[0] // patches, mean.shape[1] // patches
    grid = mean[: ph * patches, : pw * patches].reshape(patches, ph, patches, pw).mean(axis=(1, 3))
    return float(mean.mean()), float(grid.min())


def quality(frames: np.ndarray, black_level: float = 0.06) -> tuple[float, float, float]:
    """(sharpness, brightness, black_fraction)."""
    g = grey(frames)
    luma = g.reshape(len(g), -1).mean(axis=1) / 255.0
    lit = g[luma >= black_level]  # black frames would make any clip look blurred
    sharp = float(np.mean([cv2.Laplacian(f, cv2.CV_64F).var() for f in lit])) if len(lit) else 0.0
    return sharp, float(luma.mean()), float((luma < black_level).mean())


def text_area(frames: np.ndarray, samples: int = 7, max_change: int = 24) -> float:
    """Fraction of the frame covered by text-like boxes that stay put: found on the edges
    of the pixels that change by at most ``max_change`` grey levels over ``samples``
    evenly spaced frames (an overlay stays while the scene under it moves)."""
    g = grey(frames)
    picks = np.unique(np.linspace(0, len(g) - 1, min(samples, len(g))).round().astype(int))
    stack = g[picks].astype(np.int16)
    steady = (stack.max(axis=0) - stack.min(axis=0)) <= max_change
    median = np.median(stack, axis=0).astype(np.uint8)
    return float(_text_mask(median, steady).mean())


def _text_mask(image: np.ndarray, steady: np.ndarray | None = None) -> np.ndarray:
    """Boxes that look like lines of text: many strokes close together in a band."""
    h, w = image.shape
    gradient = cv2.morphologyEx(image, cv2.MORPH_GRADIENT, np.ones((2, 2), np.uint8))
    strokes = np.where(gradient >= 40, 255, 0).astype(np.uint8)
    if steady is not None:
        strokes[~steady] = 0
    band = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, np.ones((1, max(3, w // 16)), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    mask = np.zeros((h, w), np.float32)
    for k in range(1, count):
        x, y, bw, bh, _area = stats[k]
        if not (bw >= 2 * bh and 0.025 * h <= bh <= 0.2 * h and bw >= 0.1 * w):
            continue
        box = strokes[y : y + bh, x : x + bw] > 0
        column_hits = box.any(axis=0).mean()  # text: strokes all along the line
        if box.mean() >= 0.3 and column_hits >= 0.6 and _transitions(box) >= 0.15:
            mask[y : y + bh, x : x + bw] = 1
    return mask


def _transitions(box: np.ndarray) -> float:
    """On/off changes per pixel along the rows: high for glyphs, low for a solid bar."""
    return float(np.abs(np.diff(box.astype(np.int8), axis=1)).sum() / box.size)


@dataclass(frozen=True)
class Thresholds:
    min_motion: float = 0.001  # global mean flow, frame widths per frame
    min_patch_motion: float = 0.0  # smallest patch's mean flow; 0 turns it off
    motion_patches: int = 4  # patches per side for the per-patch minimum
    min_sharpness: float = 20.0  # variance of the Laplacian
    min_brightness: float = 0.08
    max_brightness: float = 0.92
    black_level: float = 0.06
    max_black_fraction: float = 0.1
    max_text_area: float = 0.01


def measure(frames: np.ndarray, t: Thresholds) -> dict[str, float]:
    """Every measurement of a clip, rounded for the report."""
    glob, patch = motion(frames, t.motion_patches)
    sharp, bright, black = quality(frames, t.black_level)
    values = {"motion_global": glob, "motion_patch_min": patch, "sharpness": sharp, "brightness": bright,
              "black_fraction": black, "text_area": text_area(frames)}
    return {k: round(v, 6) for k, v in values.items()}


class Failure(NamedTuple):
    filter: str  # motion | quality | text
    measure: str
    value: float
    threshold: float
    op: str  # how the value compared with the threshold to fail: "<" or ">"

    def __str__(self) -> str:
        return f"{self.filter}: {self.measure} {self.value:.6g} {self.op} {self.threshold:g}"


def check(m: dict[str, float], t: Thresholds) -> Failure | None:
    """The first filter the measurements ``m`` fail, or None."""
    rules = (
        ("quality", "black_fraction", ">", t.max_black_fraction),
        ("quality", "brightness", "<", t.min_brightness),
        ("quality", "brightness", ">", t.max_brightness),
        ("quality", "sharpness", "<", t.min_sharpness),
        ("motion", "motion_global", "<", t.min_motion),
        ("motion", "motion_patch_min", "<", t.min_patch_motion),
        ("text", "text_area", ">", t.max_text_area),
    )
    for name, key, op, threshold in rules:
        value = m[key]
        if (value < threshold) if op == "<" else (value > threshold):
            return Failure(name, key, value, threshold, op)
    return None
