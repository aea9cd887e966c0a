"""ONNX Runtime (fp32 and int8) vs torch eager, per shipped model part, batch 1 and 8, on
this machine's CPU, measured side by side in one run (median of --repeat calls), with
each engine's max abs difference to torch.

    python benchmarks/engine_speed.py [--repeat 10] [--parts cv4x8x8 ...] [--json]
        [--engines onnxruntime:fp32 onnxruntime:int8]      # on a GPU: onnxruntime/cuda:fp32 tensorrt:fp16
"""

from __future__ import annotations

import argparse
import json

import torch

from worldgraph.engines.families import select
from worldgraph.engines.runtime import checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--parts", nargs="*", default=[], help="models or parts (default: all)")
    parser.add_argument("--engines", nargs="+", default=["onnxruntime:fp32", "onnxruntime:int8"],
                        help="backend[/provider][:precision] each")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    choices = [checks.parse_choice(text) for text in args.engines]
    rows = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; ratio = torch eager ms / engine ms")
    print(f"{'part':>18} {'engine':>18} {'prec':>5} {'batch':>5} {'engine ms':>10} {'torch ms':>9} {'ratio':>6} "
          f"{'max |diff|':>11}")
    for part in select(args.parts):
        diffs = [checks.verify(part, *choice)["max_abs_diff"] for choice in choices]
        for i, row in enumerate(checks.bench(part, choices, (1, 8), args.repeat)):
            row["max_abs_diff"] = diffs[i % len(choices)]
            rows.append(row)
            print(f"{row['part']:>18} {row['backend']:>18} {row['precision']:>5} {row['batch']:>5} {row['ms']:>10.2f} "
                  f"{row['torch_ms']:>9.2f} {row['speedup']:>6.2f} {row['max_abs_diff']:>11.2e}", flush=True)
    for backend, precision in dict.fromkeys((r["backend"], r["precision"]) for r in rows):
        mine = [r for r in rows if (r["backend"], r["precision"]) == (backend, precision)]
        slowest = min(mine, key=lambda r: r["speedup"])
        print(f"{backend} {precision}: slowest ratio {slowest['speedup']:.2f} ({slowest['part']}, batch "
              f"{slowest['batch']}); {sum(r['speedup'] >= 1.3 for r in mine)} of {len(mine)} at >= 1.3x")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
