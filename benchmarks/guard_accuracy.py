"""Prompt guard on the held-out split of the shipped prompt set (phrases never seen in
training): unsafe recall and benign false-positive rate for the blocklist alone, the
classifier alone and both, on the prompts as written and on obfuscated copies of the
unsafe ones; latency per prompt. Targets: both stages together recall >= 0.95 with a
false-positive rate <= 0.05; <= 20 ms per prompt. Face blur: detection recall on the
faces in scikit-image's photographs (LFW crops, astronaut), false faces on non-faces and
on sim clips, frames/s at 256x256.

    python benchmarks/guard_accuracy.py
"""

from __future__ import annotations

import time

import numpy as np

from worldgraph.engines.guard.classifier import load_prompts
from worldgraph.engines.guard.prompt import guard_for

SWAPS = {"a": "4", "e": "3", "o": "0", "i": "1", "s": "$"}


def obfuscate(prompt: str, k: int) -> str:
    """Leetspeak, look-alike Cyrillic letters, zero-width joiners and accents, by turns."""
    if k % 4 == 0:
        return "".join(SWAPS.get(c, c) for c in prompt)
    if k % 4 == 1:
        return prompt.replace("o", "\u043e").replace("a", "\u0430").replace("e", "\u0435")
    if k % 4 == 2:
        return "\u200d".join(prompt)
    return prompt.replace("e", "\u00e9").replace("a", "\u00e0").upper()


def rates(guard, unsafe: list[str], safe: list[str]) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    caught = sum(not guard.check(p).safe for p in unsafe)
    false = sum(not guard.check(p).safe for p in safe)
    ms = (time.perf_counter() - t0) / (len(unsafe) + len(safe)) * 1e3
    return caught / len(unsafe), false / len(safe), ms


def faces() -> None:
    import cv2
    from skimage import data

    from worldgraph.engines.guard.faces import blur_faces, detect

    lfw = data.lfw_subset()  # 100 faces then 100 non-faces, 25x25 grey
    up = [cv2.cvtColor(cv2.resize((im * 255).astype(np.uint8), (100, 100)), cv2.COLOR_GRAY2RGB) for im in lfw]
    hits = sum(bool(detect(im)) for im in up[:100])
    false = sum(bool(detect(im)) for im in up[100:])
    astronaut = bool(detect(data.astronaut()))
    print(f"face detection: {hits}/100 LFW faces found (min_neighbors 5), {false}/100 non-faces flagged, "
          f"astronaut {'found' if astronaut else 'MISSED'}")
    frames = np.stack([cv2.resize(data.astronaut(), (256, 256))] * 32)
    t0 = time.perf_counter()
    blur_faces(frames)
    print(f"face blur: {32 / (time.perf_counter() - t0):.1f} frames/s at 256x256")


def sim_false_faces() -> None:
    import tempfile
    from pathlib import Path

    from worldgraph.engines.guard.faces import blur_faces
    from worldgraph.engines.sim.dataset import ClipJobs, SceneSet
    from worldgraph.engines.sim.pipeline import ClipSettings
    from worldgraph.engines.sim.randomize import RandomizeConfig

    jobs = ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=4242, count=20), ClipSettings(width=256, height=256))
    flagged = frames = 0
    for i in range(len(jobs)):
        clip, _ = jobs.make(i, Path(tempfile.mkdtemp()))
        _, boxes = blur_faces(clip.render.rgb["real"])  # the node's defaults
        flagged += sum(bool(b) for b in boxes)
        frames += len(boxes)
    print(f"false pixelation on sim scenes (no people): {flagged}/{frames} frames")


def main() -> None:
    rows = [r for r in load_prompts() if r["split"] == "heldout"]
    unsafe = [r["prompt"] for r in rows if r["label"] == "unsafe"]
    safe = [r["prompt"] for r in rows if r["label"] == "safe"]
    tricky = [obfuscate(p, k) for k, p in enumerate(unsafe)]
    print(f"held-out: {len(unsafe)} unsafe, {len(safe)} safe prompts (+{len(tricky)} obfuscated unsafe)")
    guard_for(True, True).check("warm up")
    for name, guard in (("blocklist alone ", guard_for(True, False)), ("classifier alone", guard_for(False, True)),
                        ("both stages     ", guard_for(True, True))):
        recall, fpr, ms = rates(guard, unsafe, safe)
        obf, _, _ = rates(guard, tricky, safe[:1])
        print(f"  {name}: recall {recall:.3f} (obfuscated {obf:.3f}), false-positive rate {fpr:.3f}, {ms:.1f} ms/prompt")
    faces()
    sim_false_faces()


if __name__ == "__main__":
    main()
