"""Test-time scaling of the autoregressive world model: the Physics-IQ-style score on
held-out clips as the number of candidates N grows, for best-of-N and beam search, all
methods in one table on the same clips and seeds (so physical variance, the 100 % mark,
is simulated once).

    python benchmarks/ar_scaling.py --data data/heldout/dataset [--clips 24] [--n 1 4 16]
        [--verifier likelihood|diffusion|forecast] [--beam-width 2] [--json]
"""

from __future__ import annotations

import argparse
import json

from worldgraph.engines.ar.api import load
from worldgraph.engines.ar.evaluate import continuation
from worldgraph.engines.ar.sample import ARSampling
from worldgraph.engines.wfm import evaluate as physics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--verifier", default="likelihood")
    parser.add_argument("--beam-width", type=int, default=2)
    parser.add_argument("--given", type=int, default=1, help="latent frames given")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from pathlib import Path

    data = Path(args.data)
    model = load()
    records, truths = physics.held_out(data, args.clips)
    captions = [r.get("caption", "") for r in records]
    methods = {}
    for n in args.n:
        searches = ["none"] if n == 1 else ["best_of_n", "beam"]
        for search in searches:
            width = min(args.beam_width, n)
            settings = ARSampling(search=search, candidates=n, beam_width=width)
            name = "N=1" if n == 1 else f"{search} N={n}" + (f" W={width}" if search == "beam" else "")
            methods[name] = continuation(model, settings, truths, captions, batch=args.batch, verifier=args.verifier)
    table = physics.physics_table(data, records, truths, methods, {}, given=(args.given,), batch=args.batch)
    cond = str(args.given)
    rows = {name: {k: table[name][k][cond] for k in (*physics.METRICS, "score")}
            | {"seconds_per_clip": table[name].get("seconds_per_clip")} for name in table}
    if args.json:
        print(json.dumps({"verifier": args.verifier, "clips": len(truths), "given": args.given, "rows": rows}))
        return
    print(f"{model.name}, {len(truths)} held-out clips, {args.given} latent frame(s) given, "
          f"verifier: {args.verifier}")
    print(f"{'method':>24} {'score %':>8} {'MSE':>8} {'ST IoU':>8} {'S IoU':>8} {'PSNR':>7} {'s/clip':>8}")
    for name, r in rows.items():
        seconds = r["seconds_per_clip"]
        print(f"{name:>24} {r['score']:>8} {r['mse']:>8.4f} {r['spatiotemporal_iou']:>8.4f} "
              f"{r['spatial_iou']:>8.4f} {r['psnr']:>7.2f} {'' if seconds is None else seconds:>8}")


if __name__ == "__main__":
    main()
