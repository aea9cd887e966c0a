"""``worldgraph batch SPEC``: a graph over a sweep, on all local cores or a Ray cluster."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EPILOG = """exit codes:
  0    every item finished (an item blocked by a guardrail is a result, not a failure)
  1    some items failed (each has a log in OUT/logs/); the others are finished
  2    invalid spec, graph or usage, or the output folder is in use
  3    stopped early: the failure budget is spent or the disk is full (--resume goes on)
  130  cancelled (Ctrl-C); --resume goes on
"""


def add_parser(commands: Any) -> None:
    batch = commands.add_parser(
        "batch", help="run a graph over a sweep (TOML) on all local cores or a Ray cluster, resumably",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("spec", type=Path, help="a sweep spec .toml (see samples/sweeps/)")
    batch.add_argument("--out", type=Path, help="output folder (default: the spec's out, else out/<spec name>)")
    batch.add_argument("--workers", type=int, help="worker processes (default: cores / the spec's cpus per item; "
                                                   "Ray: the cluster's CPUs / cpus per item)")
    batch.add_argument("--ray", metavar="ADDRESS", help="run on Ray: auto (the cluster on this machine), "
                                                        "local (start one here), or HOST:PORT / ray://HOST:PORT")
    batch.add_argument("--resume", action="store_true", help="continue a batch in --out: finished items are kept")
    batch.add_argument("--dry-run", action="store_true", help="check the spec and list the items; run nothing")
    batch.add_argument("--json", action="store_true", help="JSON lines on stdout: an event per item, then a summary")


def cmd_batch(args: argparse.Namespace) -> int:
    from worldgraph.nodes import WorldgraphError, load_graph

    from .items import make_plan
    from .local import LocalBackend, default_workers
    from .progress import view_for
    from .runner import run_batch
    from .spec import load_spec
    from .store import Store

    if args.workers is not None and args.workers < 1:
        raise WorldgraphError(f"--workers {args.workers}: use 1 or more")
    spec = load_spec(args.spec)
    plan, items = make_plan(spec, load_graph(spec.graph))
    if args.dry_run:
        for item in items:
            print(json.dumps(item.to_json(), default=str))
        return 0
    out = args.out or spec.out or Path("out") / args.spec.stem
    threads = max(1, int(spec.cpus))
    store = Store(out)
    record = {"spec": str(args.spec.resolve()), "spec_text": spec.text, "graph": str(plan.graph),
              "graph_sha256": plan.graph_sha, "items": len(items)}
    finished = store.open(args.resume, record)
    if others := len(set(finished) - {i.id for i in items}):
        print(f"warning: {others} finished items in {out} are not in this sweep (another spec or graph made "
              "them); they are kept", file=sys.stderr)
    backend: Any
    try:
        if args.ray:
            from .ray_backend import RayBackend

            backend = RayBackend(plan, store.clips, args.workers, threads, spec.cpus, spec.gpus, args.ray)
        else:
            backend = LocalBackend(plan, store.clips, args.workers or default_workers(spec.cpus), threads)
    except BaseException:
        store.close()
        raise
    code, _ = run_batch(spec, plan, items, store, backend, finished, view_for(args.json))
    return code
