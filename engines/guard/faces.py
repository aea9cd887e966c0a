"""The video post-guard: find faces on every frame and pixelate them as Cosmos does.

OpenCV's Haar cascades (frontal, and profile both ways) detect; ``min_neighbors`` is the
confidence knob (more neighbours, fewer false faces). A face stays covered for ``hold``
frames around each detection, so a missed frame does not flash it unblurred.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]


def detect(frame: np.ndarray, min_neighbors: int = 5, min_confidence: float = 2.5, min_size: int = 0) -> list[Box]:
    """Face boxes in one RGB frame: the cascades' detections whose final-stage weight (the
    detector's confidence) is at least ``min_confidence``."""
    grey = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    h, w = grey.shape
    size = min_size or max(12, min(h, w) // 16)
    found: list[Box] = []
    for name, flip in (("haarcascade_frontalface_default.xml", False),
                       ("haarcascade_profileface.xml", False), ("haarcascade_profileface.xml", True)):
        image = grey[:, ::-1] if flip else grey
        boxes, _, weights = _cascade(name).detectMultiScale3(
            image, 1.1, min_neighbors, minSize=(size, size), outputRejectLevels=True
        )
        for (x, y, bw, bh), weight in zip(boxes, weights, strict=True):
            if weight >= min_confidence:
                found.append((int(w - x - bw) if flip else int(x), int(y), int(bw), int(bh)))
    return _merge(found)


def _iou(a: Box, b: Box) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _merge(boxes: list[Box], overlap: float = 0.2) -> list[Box]:
    """Overlapping boxes (one face seen by two cascades) become their union."""
    merged: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):
        for i, m in enumerate(merged):
            if _iou(box, m) > overlap:
                x, y = min(box[0], m[0]), min(box[1], m[1])
                merged[i] = (x, y, max(box[0] + box[2], m[0] + m[2]) - x, max(box[1] + box[3], m[1] + m[3]) - y)
                break
        else:
            merged.append(box)
    return merged


def _cover(t: int, detections: list[list[Box]], hold: int) -> list[Box]:
    """This frame's faces, plus faces found on the nearest frames within ``hold`` that this
    frame missed (boxes are not grown: a moving face is covered where it was seen)."""
    boxes = list(detections[t])
    for k in range(1, hold + 1):
        for j in (t - k, t + k):
            if 0 <= j < len(detections):
                boxes += [b for b in detections[j] if all(_iou(b, c) < 0.2 for c in boxes)]
    return boxes


def _seen_again(box: Box, t: int, detections: list[list[Box]], hold: int) -> bool:
    near = range(max(0, t - hold), min(len(detections), t + hold + 1))
    return any(_iou(box, other) > 0.2 for j in near if j != t for other in detections[j])


def pixelate(frame: np.ndarray, box: Box, margin: float = 0.15) -> None:
    """In place: the box (grown by ``margin``) down to 5x5 (linear) and back (nearest)."""
    x, y, w, h = box
    dx, dy = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(frame.shape[1], x + w + dx), min(frame.shape[0], y + h + dy)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    small = cv2.resize(frame[y0:y1, x0:x1], (5, 5), interpolation=cv2.INTER_LINEAR)
    frame[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)


def blur_faces(
    frames: np.ndarray,
    min_neighbors: int = 5,
    hold: int = 3,
    min_confidence: float = 2.5,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, list[list[Box]]]:
    """(frames with every face pixelated, the boxes covered on each frame).

    In a clip, a detection counts when the same place is detected again within ``hold``
    frames: real faces persist, the detector's false faces on textures flicker."""
    if frames.ndim != 4 or frames.shape[0] == 0:
        raise ValueError(f"expected frames [T, H, W, 3] with T > 0, got shape {list(frames.shape)}")
    detections = []
    for i, frame in enumerate(frames):
        detections.append(detect(frame, min_neighbors, min_confidence))
        if progress:
            progress(i + 1, len(frames))
    if len(frames) > 1 and hold > 0:
        detections = [[b for b in found if _seen_again(b, t, detections, hold)] for t, found in enumerate(detections)]
    covered = [_cover(t, detections, hold) for t in range(len(frames))]
    out = frames.copy()
    for frame, boxes in zip(out, covered, strict=True):
        for box in boxes:
            pixelate(frame, box)
    return out, covered
