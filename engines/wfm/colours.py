"""Do a clip's frames show the objects its prompt names? Colours and counts, read off the
pixels: how Text2World prompt adherence is measured.

A prompt names objects as "a <colour> <thing>" at the start of each clause (the scene
captions' grammar). Chromatic colours are grouped into hue families (brown is a dark
orange, and lighting makes the two hard to tell apart); white, grey and black objects are
not checked, because floors and skies have those colours too. A family's objects are the
connected regions of saturated pixels of its hue, neither specks nor floor-sized.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

# hue ranges in OpenCV's 0..180 scale, and a saturation range (red and pink share hues:
# pink is the paler one)
FAMILIES: dict[str, tuple[tuple[tuple[int, int], ...], tuple[float, float]]] = {
    "red": (((0, 7), (160, 180)), (0.6, 1.0)),
    "pink": (((0, 7), (150, 180)), (0.0, 0.6)),
    "orange": (((7, 20),), (0.0, 1.0)),
    "yellow": (((20, 35),), (0.0, 1.0)),
    "green": (((35, 80),), (0.0, 1.0)),
    "cyan": (((80, 100),), (0.0, 1.0)),
    "blue": (((100, 128),), (0.0, 1.0)),
    "purple": (((128, 150),), (0.0, 1.0)),
}
FAMILY_OF = {"brown": "orange"} | {name: name for name in FAMILIES}
MIN_SATURATION, MIN_VALUE = 0.35, 0.2
MIN_AREA, MAX_FRACTION = 5, 0.25  # pixels; share of the frame
OPENING = np.ones((2, 2), np.uint8)
SUBJECT = re.compile(r"(?:^|;)\s*an? (\w+) ")


def named(prompt: str) -> Counter[str]:
    """Objects per colour family named as clause subjects ("a red ball falls; ...")."""
    return Counter(FAMILY_OF[c] for c in SUBJECT.findall(prompt.lower()) if c in FAMILY_OF)


def detected(frame: np.ndarray) -> Counter[str]:
    """Objects per colour family in one uint8 RGB frame [H, W, 3]."""
    import cv2

    hsv = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2HSV)
    hue, sat = hsv[..., 0].astype(int), hsv[..., 1] / 255
    vivid = (sat >= MIN_SATURATION) & (hsv[..., 2] >= MIN_VALUE * 255)
    limit = MAX_FRACTION * frame.shape[0] * frame.shape[1]
    found: Counter[str] = Counter()
    for family, (hues, (s_lo, s_hi)) in FAMILIES.items():
        in_hue = np.any([(hue >= lo) & (hue < hi) for lo, hi in hues], axis=0)
        mask = (vivid & in_hue & (sat >= s_lo) & (sat <= s_hi)).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, OPENING)  # objects are solid; noise is not
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        areas = stats[1:n, cv2.CC_STAT_AREA]
        found[family] = int(((areas >= MIN_AREA) & (areas <= limit)).sum())
    return found


def adheres(video: np.ndarray, prompt: str, samples: int = 5) -> bool | None:
    """True when, in most of ``samples`` evenly spaced frames, every colour family the
    prompt names shows at least as many objects as it names; None when the prompt names
    no chromatic object (nothing to check)."""
    wanted = named(prompt)
    if not wanted:
        return None
    frames = video[np.linspace(0, len(video) - 1, samples).round().astype(int)]
    good = sum(all(detected(f)[k] >= v for k, v in wanted.items()) for f in frames)
    return good > samples // 2
