"""ONNX Runtime (fp32 and int8) vs torch eager, per shipped model part, batch 1 and 8, on
this machine's CPU, measured side by side in one run (median of --repeat calls), with
each engine's max abs difference to torch.

    python benchmarks/engine_speed.py [--repeat 10] [--parts cv4x8x8 ...] [--no-int8] [--json]
"""

from __future__ import annotations

import argparse
import json

import torch

from worldgraph.engines.runtime import checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--parts", nargs="*", default=[], help="models or parts (default: all)")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 quantized engines")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    precisions = ["fp32"] + ([] if args.no_int8 else ["int8"])
    rows = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; ratio = torch eager ms / engine ms")
    print(f"{'part':>18} {'prec':>5} {'batch':>5} {'engine ms':>10} {'torch ms':>9} {'ratio':>6} {'max |diff|':>11}")
    for part in checks.select(args.parts):
        diff = {p: checks.verify(part, "onnxruntime", p)["max_abs_diff"] for p in precisions}
        for row in checks.bench(part, [("onnxruntime", p) for p in precisions], (1, 8), args.repeat):
            row["max_abs_diff"] = diff[row["precision"]]
            rows.append(row)
            print(f"{row['part']:>18} {row['precision']:>5} {row['batch']:>5} {row['ms']:>10.2f} "
                  f"{row['torch_ms']:>9.2f} {row['speedup']:>6.2f} {row['max_abs_diff']:>11.2e}", flush=True)
    fp32 = [r for r in rows if r["precision"] == "fp32"]
    slowest = min(fp32, key=lambda r: r["speedup"])
    print(f"fp32: slowest ratio {slowest['speedup']:.2f} ({slowest['part']}, batch {slowest['batch']}); "
          f"{sum(r['speedup'] >= 1.3 for r in fp32)} of {len(fp32)} at >= 1.3x")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
