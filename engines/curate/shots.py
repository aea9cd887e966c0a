"""Shot boundaries: where the picture changes all at once.

Our own content detector (PySceneDetect would pull the GUI ``opencv-python`` 5 in beside
``opencv-python-headless`` 4; both own the ``cv2`` package). For each pair of neighbouring
frames it scores how much the picture changed: the mean absolute change of hue, saturation
and value on a small copy plus the distance between their colour histograms. A cut is a
score above ``threshold`` that also stands ``ratio`` times above the median score of the
frames around it (so fast motion, which raises every score nearby, is not a cut), at
least ``min_shot_frames`` after the previous cut.
"""

from __future__ import annotations

import cv2
import numpy as np

ANALYSIS_SIZE = 48  # frames are compared on a small copy: cuts are large-scale changes


def change_scores(frames: np.ndarray) -> np.ndarray:
    """score[i] = how much frame i + 1 differs from frame i, in [0, 1] (length T - 1)."""
    hsv, hists = [], []
    for frame in frames:
        small = cv2.resize(frame, (ANALYSIS_SIZE, ANALYSIS_SIZE), interpolation=cv2.INTER_AREA)
        h = cv2.cvtColor(small, cv2.COLOR_RGB2HSV_FULL).astype(np.float32) / 255.0
        hsv.append(h)
        hist = cv2.calcHist([small], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel()
        hists.append(hist / hist.sum())
    scores = np.zeros(max(0, len(frames) - 1), np.float32)
    for i in range(len(scores)):
        a, b = hsv[i], hsv[i + 1]
        dh = np.abs(a[..., 0] - b[..., 0])
        dh = np.minimum(dh, 1.0 - dh)  # hue wraps around
        pixel = (dh.mean() + np.abs(a[..., 1:] - b[..., 1:]).mean(axis=(0, 1)).sum()) / 3
        histogram = 0.5 * float(np.abs(hists[i] - hists[i + 1]).sum())  # total variation, [0, 1]
        scores[i] = 0.5 * (pixel + histogram)
    return scores


def detect_cuts(
    frames: np.ndarray, threshold: float = 0.2, ratio: float = 3.0, min_shot_frames: int = 8, window: int = 4
) -> list[int]:
    """Frame indices where a new shot starts (never 0)."""
    scores = change_scores(frames)
    cuts: list[int] = []
    for i, s in enumerate(scores):
        around = np.concatenate([scores[max(0, i - window) : i], scores[i + 1 : i + 1 + window]])
        local = float(np.median(around)) if around.size else 0.0
        if s < threshold or s < ratio * local:
            continue
        start = i + 1
        if cuts and start - cuts[-1] < min_shot_frames:
            if s > scores[cuts[-1] - 1]:  # two candidates close together: keep the stronger
                cuts[-1] = start
            continue
        cuts.append(start)
    return cuts


def shots(frame_count: int, cuts: list[int]) -> list[tuple[int, int]]:
    """[start, end) frame ranges between cuts."""
    bounds = [0, *cuts, frame_count]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
