"""The action-conditioned world model against the simulator on held-out pusher clips:
PSNR, SSIM and latent L2 over 8 and 16 predicted frames, for the model with the true
actions, the same model with actions zeroed, copy-last-frame, and the tokenizer's
reconstruction (the ceiling), each rollout decoded plainly and composited (the rollout
where it moves something, the given frame elsewhere: the node's video); then the issue's check (action beats both baselines on every
metric), for both decodes. The same table as `worldgraph eval action`.

    python benchmarks/action_prediction.py --data data/pusher/heldout/dataset [--model NAME] [--clips 64] [--steps 1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from worldgraph.engines.post.action_api import DEFAULT, load_action_model
from worldgraph.engines.post.action_eval import HORIZONS, evaluate, format_table
from worldgraph.engines.wfm.api import Sampling


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--clips", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1, help="sampler steps a latent frame (1: the denoiser's mean)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=DEFAULT)
    args = parser.parse_args()
    result = evaluate(load_action_model(args.model), args.data, Sampling(steps=args.steps, guidance=0.0, seed=args.seed),
                      args.clips)
    print(format_table(result))
    rows = result["methods"]
    for decode in ("", "_composite"):
        for horizon in map(str, HORIZONS):
            for metric, better in (("psnr", max), ("ssim", max), ("latent_l2", min)):
                ours = rows["action" + decode][horizon][metric]
                rivals = [rows[m][horizon][metric] for m in ("no_action" + decode, "copy_last_frame")]
                beats = all(better(ours, r) == ours and ours != r for r in rivals)
                print(f"{metric}@{horizon}: action{decode} {ours:.4f} vs no-action {rivals[0]:.4f}, "
                      f"copy-last {rivals[1]:.4f}: {'beats both' if beats else 'does not beat both'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
