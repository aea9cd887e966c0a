"""Tokens per second of the autoregressive model continuing a clip (Video2World from one
latent frame: 4 x 64 tokens), with the KV cache against recomputing the whole prefix for
every token, side by side in one run on the same seeds; and seconds per clip against the
diffusion model's Video2World (35 Heun steps) on the same machine.

    python benchmarks/ar_speed.py [--batch 1 8] [--repeats 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from worldgraph.engines.ar.api import load
from worldgraph.engines.ar.sample import ARSampling
from worldgraph.engines.wfm import api as wfm


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = load()
    world = wfm.load()
    rows = []
    for b in args.batch:
        given = torch.randint(0, model.cfg.vocabulary, (b, 1, 8, 8), generator=torch.Generator().manual_seed(0))
        prompts = ["a red ball falls"] * b
        tokens = b * 4 * 64
        cached = timed(lambda: model.generate(prompts, given, ARSampling(), 17), args.repeats)  # noqa: B023
        full = timed(lambda: model.generate(prompts, given, ARSampling(), 17, use_cache=False), 1)  # noqa: B023
        lat = torch.zeros(b, 16, 1, 8, 8)
        diffusion = timed(lambda: world.generate(prompts, wfm.Sampling(guidance=0), given=lat), 1)  # noqa: B023
        rows.append({"batch": b, "tokens": tokens, "kv_cache_tokens_per_s": round(tokens / cached, 1),
                     "no_cache_tokens_per_s": round(tokens / full, 1), "kv_speedup": round(full / cached, 2),
                     "ar_s_per_clip": round(cached / b, 3), "diffusion_s_per_clip": round(diffusion / b, 3)})
    if args.json:
        print(json.dumps({"threads": torch.get_num_threads(), "rows": rows}))
        return
    print(f"torch threads {torch.get_num_threads()}; Video2World from 1 latent frame, 17 frames (256 new tokens)")
    print(f"{'batch':>5} {'KV cache tok/s':>15} {'no cache tok/s':>15} {'speed-up':>9} {'AR s/clip':>10} "
          f"{'diffusion s/clip':>17}")
    for r in rows:
        print(f"{r['batch']:>5} {r['kv_cache_tokens_per_s']:>15} {r['no_cache_tokens_per_s']:>15} "
              f"{r['kv_speedup']:>8}x {r['ar_s_per_clip']:>10} {r['diffusion_s_per_clip']:>17}")


if __name__ == "__main__":
    main()
