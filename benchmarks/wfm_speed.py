"""World-model sampling time per clip (17 frames at 64x64, Video2World from 5 given
frames, classifier-free guidance on) at batch 1 and 8, Heun vs Euler, the DiT on torch
eager and on ONNX Runtime side by side, on every core.

    python benchmarks/wfm_speed.py [--model wfm-cv4x8x8] [--steps 35 10] [--backends torch onnxruntime]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from worldgraph.engines.wfm.api import DEFAULT, Sampling, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT)
    parser.add_argument("--steps", type=int, nargs="+", default=[35, 10])
    parser.add_argument("--backends", nargs="+", default=["torch", "onnxruntime"])
    args = parser.parse_args()
    models = {b: load(args.model).on(b) for b in args.backends}
    frames = (np.random.default_rng(0).random((5, 64, 64, 3)) * 255).astype(np.uint8)
    given = models[args.backends[0]].encode_video(frames)
    net = models[args.backends[0]].net
    print(f"{args.model}: {sum(p.numel() for p in net.parameters()) / 1e6:.1f} M parameters, "
          f"{torch.get_num_threads()} threads, fp32, guidance 3 (two model passes per evaluation); ms per clip")
    for method in ("heun", "euler"):
        for steps in args.steps:
            evaluations = 2 * steps - 1 if method == "heun" else steps
            for batch in (1, 8):
                settings = Sampling(steps=steps, method=method)
                prompts = ["a red ball falls; the camera is still"] * batch
                cells = []
                for backend, model in models.items():
                    model.generate(prompts[:1], Sampling(steps=1), given=given)  # warm-up
                    t0 = time.perf_counter()
                    model.generate(prompts, settings, given=given)
                    cells.append(f"{backend} {(time.perf_counter() - t0) / batch * 1e3:6.0f}")
                print(f"  {method:5} {steps:3} steps ({evaluations:2} evaluations)  batch {batch}:  "
                      + "   ".join(cells), flush=True)


if __name__ == "__main__":
    main()
