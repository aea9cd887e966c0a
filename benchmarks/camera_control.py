"""The camera-conditioned world model against the simulator on held-out clips whose camera
orbits, dollies or pans: PSNR / SSIM of the continuation of frame 0 along the clip's true
camera path, and the pose error of the camera motion re-estimated from each video (depth
estimator + known intrinsics), for the camera model, the unconditioned base model (same
seeds, same sampler), the base model told the camera motion in words, copy-first-frame,
the tokenizer's reconstruction (the ceiling) and the true video (the pose estimate's floor).
Then the issue's comparison: does the camera model beat the unconditioned baseline? The
same table as `worldgraph eval camera`.

    python benchmarks/camera_control.py --data /work/data/heldout/dataset [--clips 32] [--steps 35]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from worldgraph.engines.post import camera_api
from worldgraph.engines.post.camera_eval import evaluate, format_table
from worldgraph.engines.wfm import api as wfm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default=camera_api.DEFAULT)
    parser.add_argument("--clips", type=int, default=0)
    parser.add_argument("--steps", type=int, default=35)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = evaluate(camera_api.load(args.model), wfm.load(), args.data,
                     wfm.Sampling(steps=args.steps, guidance=0.0, seed=args.seed), args.clips, batch=args.batch)
    print(format_table(table))
    cam, base = table["camera"], table["unconditioned"]
    for key, better in (("psnr", max), ("ssim", max), ("pose_rotation_deg", min), ("pose_translation_m", min)):
        ours, theirs = cam.get(key), base.get(key)
        if ours is None or theirs is None:
            continue
        verdict = "beats" if better(ours, theirs) == ours and ours != theirs else "does not beat"
        print(f"{key}: camera {ours:.4g} vs unconditioned {theirs:.4g}: {verdict} the unconditioned baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
