"""Does the action-conditioned model use its actions? One denoiser call per window and
latent frame, teacher-forced (the true earlier latent frames given), at a few noise
levels: the error on the latent pixels that move (depth changes by more than 1 cm) with
the true actions against the same call with them zeroed (for a model that sees the
pusher, its map showing it standing still) and with only the action vector zeroed. A
model that ignores its actions scores the same in all three columns; rollouts (see
`action_prediction.py`) compound errors and hide a small gain, this does not.

    python benchmarks/action_usage.py --data data/pusher/val/dataset [--model NAME] [--clips 8]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from worldgraph.engines.post.action_api import DEFAULT, load_action_model
from worldgraph.engines.post.action_eval import held_out_windows
from worldgraph.engines.post.action_train import WINDOW, window_motion
from worldgraph.engines.sim.dataset import read_manifest
from worldgraph.engines.wfm.edm import Condition

SIGMAS = (0.3, 1.0, 3.0, 80.0)
VARIANTS = ("action", "no_action", "map_only")


@torch.no_grad()
def moving_error(model, z, actions, maps, moving, sigma: float, variant: str) -> float:
    """Mean squared error on moving latent pixels, averaged over latent frames 1..4."""
    tokens, mask = model.encode_text([""] * len(z))
    errors = []
    for k in range(1, z.shape[2]):
        x0 = z[:, :, : k + 1]
        given = torch.ones(len(z), 1, k + 1, 1, 1)
        given[:, :, k] = 0
        still = variant in ("no_action", "map_only")
        signals = {"action": torch.zeros_like(actions[:, k - 1]) if still else actions[:, k - 1]}
        if model.cfg.map_channels:
            signals["pusher"] = maps["no_action" if variant == "no_action" else "action"][:, :, : k + 1]
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(k))
        made = model.denoiser(x0 + sigma * noise, torch.full((len(z),), sigma),
                              Condition(tokens, mask, x0, given, 0.001, signals))
        err = (made[:, :, k] - x0[:, :, k]).pow(2).mean(1)  # [N, h, w]
        weight = moving[:, k - 1]
        errors.append(float((err * weight).sum() / weight.sum().clamp_min(1)))
    return sum(errors) / len(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default=DEFAULT)
    parser.add_argument("--clips", type=int, default=8)
    args = parser.parse_args()
    model = load_action_model(args.model)
    videos, actions, maps = held_out_windows(args.data, args.clips)
    records = read_manifest(args.data)[: args.clips or None]
    moving = torch.cat([window_motion(args.data / "clips" / r["id"], [s for s in (0, 16) if s + WINDOW <= r["frames"]])
                        ["motion"] for r in records]).float()  # the windows held_out_windows takes
    z = model.space.encode(videos)
    print(f"{model.name}: moving-pixel MSE of one denoiser call, {len(z)} windows of {args.data}")
    print(f"{'sigma':>7}" + "".join(f"{v:>12}" for v in VARIANTS) + f"{'gain':>9}")
    for sigma in SIGMAS:
        row = {v: moving_error(model, z, actions, maps, moving, sigma, v) for v in VARIANTS}
        gain = 1 - row["action"] / row["no_action"]
        print(f"{sigma:>7g}" + "".join(f"{row[v]:>12.4f}" for v in VARIANTS) + f"{gain:>9.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
