"""``worldgraph engines``: build, list, verify and benchmark the ONNX Runtime / TensorRT
engines of the shipped models."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

BACKENDS = ("onnxruntime", "tensorrt", "torch", "auto")


def add_parser(commands: Any) -> None:
    engines = commands.add_parser("engines", help="build, list, verify and benchmark model engines (ONNX/TensorRT)")
    actions = engines.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("build", "export and build engines into the cache"),
                       ("verify", "check engines against the torch reference (exit 1 on a mismatch)"),
                       ("bench", "time engines against torch eager, side by side")):
        action = actions.add_parser(name, help=text)
        action.add_argument("parts", nargs="*", metavar="MODEL",
                            help="models (cv4x8x8) or parts (cv4x8x8.encode); none or --all: every one")
        action.add_argument("--all", action="store_true", help="every shipped model")
        action.add_argument("--backend", choices=BACKENDS, default="onnxruntime")
        action.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16", "int8"))
        action.add_argument("--provider", default="auto", choices=("auto", "cpu", "cuda", "tensorrt"),
                            help="onnxruntime's execution provider")
        action.add_argument("--json", action="store_true", help="JSON lines on stdout")
        if name == "bench":
            action.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="batch sizes (default 1 8)")
            action.add_argument("--repeat", type=int, default=10, help="timed calls per figure (median)")
    listing = actions.add_parser("list", help="the exportable parts and the engines built in the cache")
    listing.add_argument("--json", action="store_true", help="JSON on stdout")


def cmd_engines(args: argparse.Namespace) -> int:
    from worldgraph.engines.families import select
    from worldgraph.engines.runtime import EngineError, resolve
    from worldgraph.engines.weights import CheckpointError
    from worldgraph.nodes import WorldgraphError

    if args.action == "list":
        return list_engines(args)
    try:
        chosen = select(args.parts)
        resolve(args.backend, args.precision, args.provider)
        if args.action == "build":
            return build(chosen, args)
        if args.action == "verify":
            return verify(chosen, args)
        return bench(chosen, args)
    except (EngineError, CheckpointError, KeyError) as e:
        raise WorldgraphError(str(e.args[0]) if isinstance(e, KeyError) else str(e)) from None


def emit(args: argparse.Namespace, row: dict[str, Any], text: str) -> None:
    print(json.dumps(row) if args.json else text, flush=True)


def build(chosen: list[Any], args: argparse.Namespace) -> int:
    from worldgraph.engines.runtime import engine

    for part in chosen:
        run = engine(part, args.backend, args.precision, args.provider)
        emit(args, {"part": part.name, "backend": run.backend, "precision": run.precision, "built": True},
             f"ready: {part.name} on {run.backend} {run.precision}")
    return 0


def verify(chosen: list[Any], args: argparse.Namespace) -> int:
    from worldgraph.engines.runtime import checks

    failed = 0
    for part in chosen:
        row = checks.verify(part, args.backend, args.precision, args.provider)
        failed += not row["ok"]
        detail = row.get("reason") or f"max abs diff {row['max_abs_diff']:.2e} (tolerance {row['tolerance']:g})"
        emit(args, row, f"{'ok' if row['ok'] else 'MISMATCH'}: {part.name} on {row['backend']} "
                        f"{row['precision']}: {detail}")
    if not args.json:
        print(f"{len(chosen) - failed} of {len(chosen)} parts match torch", file=sys.stderr)
    return 1 if failed else 0


def bench(chosen: list[Any], args: argparse.Namespace) -> int:
    from worldgraph.engines.runtime import checks

    for part in chosen:
        for row in checks.bench(part, [(args.backend, args.precision, args.provider)], tuple(args.batch),
                                args.repeat):
            emit(args, row, f"{row['part']:>18}  batch {row['batch']:>2}  {row['backend']} {row['precision']}: "
                            f"{row['ms']:8.2f} ms   torch eager {row['torch_ms']:8.2f} ms   "
                            f"x{row['speedup']:.2f}")
    return 0


def list_engines(args: argparse.Namespace) -> int:
    from worldgraph.engines.families import parts
    from worldgraph.engines.runtime import entry_state
    from worldgraph.engines.runtime.store import EngineCache

    store = EngineCache()
    known = parts()
    built: list[dict[str, Any]] = []
    for entry, record in store.entries():
        size = sum(f.stat().st_size for f in entry.iterdir() if f.is_file())
        built.append({"entry": entry.name, "state": entry_state(entry, record, known),
                      "megabytes": round(size / 2**20, 1)})
    if args.json:
        print(json.dumps({"cache": str(store.root), "parts": {n: p.doc for n, p in known.items()},
                          "built": built}))
        return 0
    print("parts:")
    for name, part in known.items():
        print(f"  {name:<18} {part.doc}")
    print(f"engine cache {store.root}:")
    for row in built or [{"entry": "(empty)", "state": "", "megabytes": 0}]:
        print(f"  {row['entry']:<48} {row['megabytes']:>7} MB  {row['state']}")
    return 0
