"""Prompt guard on the held-out split of the shipped prompt set (templates and words never
seen in training, see engines/guard/data/make_prompts.py): unsafe recall and benign
false-positive rate for the blocklist alone, the classifier alone and both, overall and on
the obfuscated and hard-benign subsets (``worldgraph eval guard`` computes the same);
latency per prompt (torch). Targets: both stages
recall >= 0.97 with a false-positive rate <= 0.03. Face blur: detection recall on the faces
in scikit-image's photographs (LFW crops, astronaut), false faces on non-faces and on sim
clips, frames/s at 256x256.

    python benchmarks/guard_accuracy.py
"""

from __future__ import annotations

import time

import numpy as np

from worldgraph.engines.guard.classifier import load_prompts
from worldgraph.engines.guard.evaluate import evaluate
from worldgraph.engines.guard.prompt import guard_for


def prompts() -> None:
    result = evaluate()
    print(f"prompt guard, {result['prompts']} held-out prompts, threshold {result['threshold']}, "
          f"checkpoint {str(result['checkpoint']['sha256'])[:12]}:")
    for stage, f in result["stages"].items():
        sub = f["subsets"]
        print(f"  {stage:>10}: recall {f['unsafe_recall']:.3f} (obfuscated {sub['obfuscated']['recall']:.3f}), "
              f"false-positive rate {f['benign_false_positive_rate']:.3f} "
              f"(hard benign {sub['hard_benign']['false_positive_rate']:.3f})")
    rows = [r["prompt"] for r in load_prompts() if r["split"] == "heldout"][:200]
    guard = guard_for()
    guard.check("warm up")
    t0 = time.perf_counter()
    for p in rows:
        guard.check(p)
    print(f"  latency: {(time.perf_counter() - t0) / len(rows) * 1e3:.1f} ms per prompt (both stages)")


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
    prompts()
    faces()
    sim_false_faces()


if __name__ == "__main__":
    main()
