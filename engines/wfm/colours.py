"""Do a clip's frames show the objects its prompt names? Colours and counts, read off the
pixels: how Text2World prompt adherence is measured.

A prompt names objects as "a <colour> <thing>" at the start of each clause (the scene
captions' grammar). Chromatic colours are grouped into families (brown is a dark orange,
and lighting makes the two hard to tell apart); white, grey and black objects are not
checked, because floors and skies have those colours too. A family's objects are the
connected regions of its pixels, neither specks nor floor-sized.

Which colour a pixel shows is looked up in a table learnt from the simulator's own clips
(``learn_table``): for every colour (16 levels per channel), the palette colour whose
objects show it most often there, or "scene" (floor, sky, walls). The objects' pixels are
the segmentation's, in both render styles, as rendered and through the tokenizer (what a
generated clip looks like at best), without their mixed border pixels. The scene's counts
are divided by ``SCENE_WEIGHT`` first: it has 80 times more pixels than all objects
together, and taken at face value it claims every shaded or blurred object pixel.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import catalog
from ..sim.captions import PALETTE, colour_name

FAMILY_OF = {"brown": "orange"} | {name: name for name in
                                   ("red", "pink", "orange", "yellow", "green", "cyan", "blue", "purple")}
FAMILIES = tuple(dict.fromkeys(FAMILY_OF.values()))
CLASSES = (*PALETTE, "scene")  # what a pixel can be; the table holds indices into this
BITS = 4  # levels per channel: 2**BITS
SCENE_WEIGHT = 16.0  # picked on the validation scenes (1, 4, 16, 64 tried)
MIN_AREA, MAX_FRACTION = 5, 0.25  # pixels; share of the frame
OPENING = np.ones((2, 2), np.uint8)
SUBJECT = re.compile(r"(?:^|;)\s*an? (\w+) ")
TABLE = catalog.SHIPPED / "colours.safetensors"  # where `worldgraph train colours` writes by default


def named(prompt: str) -> Counter[str]:
    """Objects per colour family named as clause subjects ("a red ball falls; ...")."""
    return Counter(FAMILY_OF[c] for c in SUBJECT.findall(prompt.lower()) if c in FAMILY_OF)


def bins(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB [..., 3] -> the table's bin of every pixel [...]."""
    q = frames.astype(np.int64) >> (8 - BITS)
    return (q[..., 0] << (2 * BITS)) | (q[..., 1] << BITS) | q[..., 2]


def read_table(card: Path) -> np.ndarray:
    """The class index per bin [2**(3*BITS)] of a colour table, checked against its card."""
    from safetensors.numpy import load_file

    from ..media.files import sha256
    from ..weights import CheckpointError, read_meta

    table, meta = card.with_suffix(".safetensors"), read_meta(card)
    if meta.get("sha256") and sha256(table) != meta["sha256"]:
        raise CheckpointError(f"{table}: sha256 differs from {card.name}: the file is truncated or not the one "
                              "the card describes")
    try:
        classes = load_file(str(table))["classes"]
    except (OSError, KeyError, ValueError) as e:
        raise CheckpointError(f"{table}: cannot read the colour table ({e}); "
                              "rebuild it with `worldgraph train colours --data DIR`") from None
    if classes.shape != (1 << (3 * BITS),) or int(classes.max(initial=0)) >= len(CLASSES):
        raise CheckpointError(f"{table}: not a colour table of {BITS}-bit bins over {len(CLASSES)} classes "
                              f"(shape {list(classes.shape)})")
    return classes


@cache
def _family_of_bin() -> np.ndarray:
    """Per bin, the index into FAMILIES of its colour's family, or -1."""
    classes = read_table(catalog.find("colours", "colours").card)
    lookup = np.array([FAMILIES.index(FAMILY_OF[c]) if c in FAMILY_OF else -1 for c in CLASSES])
    return lookup[classes.astype(np.int64)]


def detected(frame: np.ndarray) -> Counter[str]:
    """Objects per colour family in one uint8 RGB frame [H, W, 3]."""
    import cv2

    family = _family_of_bin()[bins(frame)]
    limit = MAX_FRACTION * frame.shape[0] * frame.shape[1]
    found: Counter[str] = Counter()
    for index, name in enumerate(FAMILIES):
        mask = cv2.morphologyEx((family == index).astype(np.uint8), cv2.MORPH_OPEN, OPENING)  # objects are solid
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        areas = stats[1:n, cv2.CC_STAT_AREA]
        found[name] = int(((areas >= MIN_AREA) & (areas <= limit)).sum())
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


# ------------------------------------------------------------------------------ learning the table


def _labelled_pixels(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """A clip's class per pixel [T, H, W] (palette colour of the object there, or scene) and
    whether the pixel is usable (not on an object's border) [T, H, W]."""
    import cv2

    seg = np.load(folder / "segmentation.npy")
    prims = json.loads((folder / "segmentation.json").read_text())
    bodies = {b["path"]: CLASSES.index(colour_name(tuple(b["color"])))
              for b in json.loads((folder / "metadata.json").read_text())["bodies"]}
    labels = np.full(seg.shape, CLASSES.index("scene"))
    border = np.zeros(seg.shape, bool)
    kernel = np.ones((3, 3), np.uint8)
    for key, path in prims.items():
        inside = seg == int(key)
        if path in bodies:
            labels[inside] = bodies[path]
        for t, m in enumerate(inside.astype(np.uint8)):
            border[t] |= cv2.dilate(m, kernel) != cv2.erode(m, kernel)
    return labels, ~border


def learn_table(data: Path, clips: int, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Pixel counts per class and bin [len(CLASSES), 2**(3*BITS)] over the first ``clips``
    clips of a scene dataset (both styles, as rendered and through cv4x8x8)."""
    from ..media.video import read_video
    from ..sim.dataset import read_manifest
    from ..tokenizer import checkpoint
    from ..tokenizer.api import frames_to_input, output_to_frames

    records = read_manifest(data)[:clips]
    if not records:
        raise ValueError(f"{data}: no finished clips to learn colours from")
    tokenizer = checkpoint.load("cv4x8x8")
    counts = np.zeros((len(CLASSES), 1 << (3 * BITS)))
    for n, record in enumerate(records):
        folder = data / "clips" / record["id"]
        labels, usable = _labelled_pixels(folder)
        for name in ("rgb.mp4", "rgb_plain.mp4"):
            video, _ = read_video(folder / name, max_frames=17)
            with torch.no_grad():
                through = output_to_frames(tokenizer.decode(tokenizer.encode(frames_to_input(video))))
            for frames in (video, through):
                keep = usable[: len(frames)]
                np.add.at(counts, (labels[: len(frames)][keep], bins(frames)[keep]), 1)
        if progress:
            progress(n + 1, len(records))
    return counts


def export_table(counts: np.ndarray, meta: dict[str, Any], path: Path = TABLE) -> Path:
    """Write the class per bin (uint8) and its JSON; ``detected`` reads it."""
    from safetensors.numpy import save_file

    from ..media.files import atomic_output, sha256

    weighted = counts / np.where(np.arange(len(CLASSES)) == CLASSES.index("scene"), SCENE_WEIGHT, 1.0)[:, None]
    classes = np.where(counts.sum(0) > 0, weighted.argmax(0), CLASSES.index("scene")).astype(np.uint8)
    with atomic_output(path) as tmp:
        save_file({"classes": classes}, str(tmp))
    pixels = dict(zip(CLASSES, counts.sum(1).astype(int).tolist(), strict=True))
    with atomic_output(path.with_suffix(".json")) as tmp:
        card = {"family": "colours", "name": path.stem} | meta | {
            "classes": list(CLASSES), "bits": BITS, "scene_weight": SCENE_WEIGHT, "pixels": pixels,
            "sha256": sha256(path)}
        tmp.write_text(json.dumps(card, indent=1) + "\n")
    _family_of_bin.cache_clear()
    return path
