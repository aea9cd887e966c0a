"""Data-parallel training on this machine: the world-model recipe (wfm-cv4x8x8, batch 32)
for a short run as 1 process x 2 threads and as 2 processes x 1 thread (torch.distributed,
gloo), through ``worldgraph train``. Prints both speeds (steps/s after the first steps),
their ratio, and how far apart the two loss curves are (the same global batch, so the
same steps up to float rounding).

    python benchmarks/train_scaling.py [--steps 20] [--repeats 2] [--clips 8] [--data DATASET]

With ``--repeats`` the two alternate (one, two, one, two, ...) and each speed is the best
of its runs: a busy machine slows some runs, never speeds one up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RECIPE = "wfm-cv4x8x8"
WARM = 3  # steps left out of the speed (process start, first allocations, DDP set-up)


def dataset(root: Path, clips: int) -> Path:
    from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
    from worldgraph.engines.sim.pipeline import ClipSettings
    from worldgraph.engines.sim.randomize import RandomizeConfig

    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=123, count=clips), ClipSettings(frames=17)),
                  root, workers=1)
    return root


def latents(data: Path, out: Path) -> Path:
    """The recipe's latent cache, encoded once and copied into each run."""
    from worldgraph.engines.wfm.data import LatentSpace, build_cache
    from worldgraph.engines.wfm.model import PRESETS

    cfg = PRESETS[RECIPE]
    return build_cache(data, LatentSpace(cfg.tokenizer, cfg.sigma_data), out)


def run(data: Path, cache: Path, folder: Path, steps: int, processes: int, threads: int) -> list[dict]:
    folder.mkdir(parents=True)
    shutil.copy(cache, folder / "latents.safetensors")
    command = [sys.executable, "-m", "worldgraph", "train", "wfm", "--recipe", RECIPE, "--data", str(data),
               "--run", str(folder), "--steps", str(steps), "--threads", str(threads), "--nproc", str(processes),
               "--evals", "0", "--no-export"]
    subprocess.run(command, check=True, env=os.environ | {"OMP_NUM_THREADS": str(threads)})
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def speed(records: list[dict]) -> float:
    steps = [r for r in records if "loss" in r]
    first, last = steps[WARM - 1], steps[-1]
    return (last["step"] - first["step"]) / (last["seconds"] - first["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each, alternating (the best counts)")
    parser.add_argument("--clips", type=int, default=8, help="clips of the made-up dataset (without --data)")
    parser.add_argument("--data", type=Path, help="a scene dataset to train on (default: made here)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="train-scaling-") as tmp:
        root = Path(tmp)
        data = args.data or dataset(root / "data", args.clips)
        cache = latents(data, root / "latents.safetensors")
        ones, twos = [], []
        for i in range(args.repeats):
            ones.append(run(data, cache, root / f"one-{i}", args.steps, processes=1, threads=2))
            twos.append(run(data, cache, root / f"two-{i}", args.steps, processes=2, threads=1))
    one, two = ones[0], twos[0]
    speeds_a, speeds_b = [speed(r) for r in ones], [speed(r) for r in twos]
    a, b = max(speeds_a), max(speeds_b)
    losses = [(x["loss"], y["loss"]) for x, y in zip(one, two, strict=True) if "loss" in x]
    diff = max(abs(x - y) for x, y in losses)
    print(f"{RECIPE}, batch 32, {args.steps} steps (speed over steps {WARM}..{args.steps}), {os.cpu_count()} cores:")
    print(f"  1 process  x 2 threads: {a:.3f} steps/s (runs: {', '.join(f'{v:.3f}' for v in speeds_a)})")
    print(f"  2 processes x 1 thread: {b:.3f} steps/s (runs: {', '.join(f'{v:.3f}' for v in speeds_b)})")
    print(f"  ratio (2 processes / 1 process): {b / a:.2f}")
    means = [sum(v) / len(v) for v in zip(*losses, strict=True)]
    print(f"  loss curves: mean {means[0]:.5f} vs {means[1]:.5f}, first {losses[0][0]:.5f} vs {losses[0][1]:.5f}, "
          f"last {losses[-1][0]:.5f} vs {losses[-1][1]:.5f}; largest difference at a step {diff:.2e} "
          "(the same global batch: rounding only)")


if __name__ == "__main__":
    main()
