"""Tokenizer encode / decode time per clip (batch 1, 17 frames at 64x64) for the shipped
checkpoints, torch eager fp32 vs bf16 autocast, on 1 thread and on every core.

    python benchmarks/tokenizer_speed.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from worldgraph.engines import catalog
from worldgraph.engines.tokenizer.checkpoint import load


def timed(fn, arg: torch.Tensor, repeats: int) -> float:
    fn(arg)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    x = torch.rand(1, 3, 17, 64, 64) * 2 - 1
    for name in catalog.names("tokenizer"):
        model = load(name)
        z = model.encode(x)
        print(f"{name} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters), "
              f"17x64x64 -> {list(z.shape[1:])}")
        for threads in sorted({1, os.cpu_count() or 1}):
            torch.set_num_threads(threads)
            for bf16 in (False, True):
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    enc = timed(model.encode, x, args.repeats)
                    dec = timed(model.decode, z, args.repeats)
                print(f"  {threads} thread(s) {'bf16' if bf16 else 'fp32'}: encode {enc * 1e3:6.1f} ms, "
                      f"decode {dec * 1e3:6.1f} ms per clip")


if __name__ == "__main__":
    main()
