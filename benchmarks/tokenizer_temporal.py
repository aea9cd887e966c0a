"""How much of the motion inside each 4-frame latent group the tokenizers keep: PSNR per
frame of each shipped tokenizer beside the *group mean*, every frame of a group replaced
by the mean of its four frames (the best a latent that keeps no change inside its group
could give; the first frame is its own group and stays as it is), and the share of the
change inside groups each keeps: 1 - |d_rec - d_true|^2 / |d_true|^2 with d a clip minus
its group means, pooled over every clip (0 %: the latents keep none of it, and no decoder
can bring it back; 100 %: all of it).

    python benchmarks/tokenizer_temporal.py --data data/heldout/dataset [--clips 48] [--start 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from worldgraph.engines import catalog
from worldgraph.engines.media.video import read_video
from worldgraph.engines.metrics import psnr
from worldgraph.engines.sim.dataset import read_manifest
from worldgraph.engines.tokenizer.checkpoint import load

FRAMES = 17


def group_mean(frames: torch.Tensor) -> torch.Tensor:
    """[T, C, H, W] with T = 1 + 4k: every frame of a 4-frame group replaced by the group's mean."""
    out = frames.clone()
    for start in range(1, len(frames), 4):
        out[start : start + 4] = frames[start : start + 4].mean(0, keepdim=True)
    return out


def kept(reconstructions: list[torch.Tensor], truth: list[torch.Tensor]) -> float:
    """The share of the truth's change inside groups that the reconstructions keep."""
    error, total = 0.0, 0.0
    for y, t in zip(reconstructions, truth, strict=True):
        d_true, d_rec = t - group_mean(t), y - group_mean(y)
        error += (d_rec - d_true).pow(2).sum().item()
        total += d_true.pow(2).sum().item()
    return 1 - error / total


def clips(data: Path, count: int, start: int) -> list[torch.Tensor]:
    """Both looks of the first ``count`` clips, FRAMES frames from ``start``, [3, T, H, W] in [-1, 1]."""
    out = []
    for record in read_manifest(data)[:count]:
        for name in ("rgb.mp4", "rgb_plain.mp4"):
            video, _ = read_video(data / "clips" / record["id"] / name, max_frames=start + FRAMES)
            if len(video) < start + FRAMES:
                raise SystemExit(f"{data / 'clips' / record['id'] / name}: {len(video)} frames, "
                                 f"fewer than {start + FRAMES}")
            out.append(torch.from_numpy(video[start:]).permute(3, 0, 1, 2).float() / 127.5 - 1)
    return out


def row(label: str, curve: torch.Tensor) -> str:
    return f"{label:<14}" + " ".join(f"{v:5.1f}" for v in curve.tolist()) + f" | rest {curve[1:].mean():5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a scene dataset (held-out clips)")
    parser.add_argument("--clips", type=int, default=48)
    parser.add_argument("--start", type=int, default=0, help="first frame of the window")
    args = parser.parse_args()
    videos = clips(args.data, args.clips, args.start)
    truth = [(v.transpose(0, 1) + 1) / 2 for v in videos]  # [T, 3, H, W] in [0, 1]
    # identical frames give infinite PSNR: cap at 60 dB so a still group cannot swamp the mean
    baseline = torch.stack([psnr(t, group_mean(t)).clamp(max=60) for t in truth]).mean(0)
    print(f"PSNR per frame (dB), {len(videos)} clips x {FRAMES} frames from frame {args.start}; "
          "frame 0 is coded alone, then groups of 4")
    print(f"{'frame':<14}" + " ".join(f"{t:5d}" for t in range(FRAMES)))
    print(row("group mean", baseline))
    with torch.no_grad():
        for name in catalog.names("tokenizer"):
            model = load(name)
            rebuilt = [(model(v[None]).clamp(-1, 1)[0].transpose(0, 1) + 1) / 2 for v in videos]
            curve = torch.stack([psnr(t, y) for y, t in zip(rebuilt, truth, strict=True)]).mean(0)
            print(row(name, curve))
            print(f"{'':<14}change inside groups kept: {kept(rebuilt, truth):.1%}; "
                  f"first frame - rest {curve[0] - curve[1:].mean():.2f} dB")


if __name__ == "__main__":
    main()
