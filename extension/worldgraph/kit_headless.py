"""Run one graph file inside Kit through the worldgraph extension, then quit Kit.

    python -m omni.kit_app --no-window --ext-folder extension --enable worldgraph \\
        --exec "extension/worldgraph/kit_headless.py GRAPH [--out DIR] [--set NODE.INPUT=VALUE ...]
                [--seed N] [--backend B] [--summary FILE.json] [--stay]"

Kit's exit code: 0 ok (or blocked by a guardrail), 1 a node failed, 2 the graph could not
run (missing file, invalid graph, the extension did not start). ``--summary`` writes the
run's summary as JSON; ``--stay`` keeps Kit running afterwards."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kit_headless.py", description="Run a worldgraph graph inside Kit.")
    parser.add_argument("graph", type=Path)
    parser.add_argument("--out", type=Path, help="output folder (default: the output_dir setting / graph name)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="NODE.INPUT=VALUE")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--backend", choices=("auto", "torch", "onnxruntime", "tensorrt"))
    parser.add_argument("--summary", type=Path, help="write the run's summary here as JSON")
    parser.add_argument("--stay", action="store_true", help="keep Kit running after the run")
    return parser.parse_args(argv)


def value(text: str) -> Any:
    """``--set`` values: JSON where they parse (numbers, true/false), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str]) -> int:
    import carb

    args = parse(argv)
    sets = {}
    for assignment in args.sets:
        target, sep, text = assignment.partition("=")
        if not sep:
            carb.log_error(f"worldgraph: --set {assignment!r}: expected NODE.INPUT=VALUE")
            return 2
        sets[target] = value(text)
    try:
        from worldgraph.kit_extension import get_extension

        summary = get_extension().run_graph(args.graph, args.out, sets=sets, seed=args.seed, backend=args.backend)
    except Exception as e:  # the file, the graph or the extension: one clear line
        carb.log_error(f"worldgraph: {args.graph}: {e}")
        if args.summary:
            args.summary.parent.mkdir(parents=True, exist_ok=True)
            args.summary.write_text(json.dumps({"graph": str(args.graph), "status": "error", "error": str(e)}))
        return 2
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary.to_json(), indent=1))
    for failure in summary.failures:
        carb.log_error(f"worldgraph: {failure}")
    carb.log_warn(f"worldgraph: {summary.graph}: {summary.status}, {len(summary.files)} file(s) in {summary.out_dir}")
    return 1 if summary.status in ("failed", "cancelled") else 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    if "--stay" not in sys.argv[1:]:
        import omni.kit.app

        omni.kit.app.get_app().post_quit(code)
