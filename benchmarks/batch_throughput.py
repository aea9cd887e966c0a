"""Batch throughput: a sim-only sweep (samples/sweeps/sim_dataset.toml, 2 clips of 17 frames
at 64x64 per item) on 1 vs 2 local workers (target >= 1.7x on 2 cores), the local pool vs
Ray on the same machine (target: Ray within 15 %), and the batch machinery's cost per item
against running the same graphs one after another in one process. Optionally the same for
the Sim2Real sweep (about 20 s per item).

    python benchmarks/batch_throughput.py [--items 16] [--sim2real-items 0] [--no-ray]

Times are the batch's own (its summary: from the first item sent to the last recorded,
worker start-up included); Ray's cluster is started once before (as `ray start --head`
would be), its actors' start-up is included like the pool's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from worldgraph.cli import main

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = ROOT / "samples" / "sweeps"

DIRECT = """
import sys, time
from pathlib import Path
from worldgraph.batch.items import apply, copy_graph, make_plan
from worldgraph.batch.spec import load_spec
from worldgraph.nodes import Executor, load_graph
spec = load_spec(Path(sys.argv[1]))
template = load_graph(spec.graph)
plan, items = make_plan(spec, template)
t0 = time.perf_counter()
for item in items[: int(sys.argv[3])]:
    graph = copy_graph(template)
    apply(graph, plan, item)
    assert Executor().run(graph, Path(sys.argv[2]) / item.id, seed=item.seed).status == "ok"
print(time.perf_counter() - t0)
"""


def sweep_spec(source: Path, items: int, folder: Path) -> Path:
    """The sample spec with ``items`` items (its graph path made absolute)."""
    text = source.read_text()
    lines = [line for line in text.splitlines() if not line.startswith(("items =", "graph =", "out ="))]
    graph = (source.parent / next(line for line in text.splitlines() if line.startswith("graph =")).split('"')[1])
    for other in source.parent.iterdir():  # what the spec names beside it (prompts.jsonl)
        if other.suffix != ".toml" and other.is_file():
            shutil.copy(other, folder / other.name)
    spec = folder / source.name
    spec.write_text(f'graph = "{graph.resolve()}"\nitems = {items}\n' + "\n".join(lines) + "\n")
    return spec


def batch(spec: Path, out: Path, *extra: str) -> dict:
    """Run the batch in this process; its JSON summary."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["batch", str(spec), "--out", str(out), "--json", *extra])
    events = [json.loads(line) for line in buffer.getvalue().splitlines()]
    summary = events[-1]
    assert code == 0 and summary["ok"] + summary["blocked"] == summary["items"], summary
    # steady state: after each worker's first item (start-up, models loading) is done
    times = sorted(e["elapsed"] for e in events if e["event"] == "item" and e["final"])
    warm = times[summary["workers"] - 1:]
    summary["steady_per_minute"] = 60 * (len(warm) - 1) / (warm[-1] - warm[0]) if len(warm) > 1 else 0.0
    return summary


def direct(spec: Path, out: Path, items: int) -> float:
    """Seconds to run the same items' graphs one after another in a fresh process."""
    done = subprocess.run([sys.executable, "-c", DIRECT, str(spec), str(out), str(items)], check=True,
                          capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
    return float(done.stdout.strip().splitlines()[-1])


def measure(name: str, source: Path, items: int, work: Path, ray_too: bool) -> None:
    spec = sweep_spec(source, items, work)
    first = batch(spec, work / f"{name}-1", "--workers", "1")
    second = batch(spec, work / f"{name}-2", "--workers", "2")
    one, two = first["seconds"], second["seconds"]
    alone = direct(spec, work / f"{name}-direct", items)
    print(f"{name}: {items} items; items/min in all (start-up included) and steady (after each worker's first item)")
    print(f"  local, 1 worker : {one:7.1f} s  {60 * items / one:6.1f} items/min   steady {first['steady_per_minute']:6.1f}")
    print(f"  local, 2 workers: {two:7.1f} s  {60 * items / two:6.1f} items/min   steady {second['steady_per_minute']:6.1f}"
          f"   scaling {one / two:.2f}x in all, {second['steady_per_minute'] / first['steady_per_minute']:.2f}x steady")
    if ray_too:
        import ray

        if not ray.is_initialized():
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        remote = batch(spec, work / f"{name}-ray", "--ray", "auto", "--workers", "2")
        on_ray = remote["seconds"]
        print(f"  ray,   2 workers: {on_ray:7.1f} s  {60 * items / on_ray:6.1f} items/min   steady "
              f"{remote['steady_per_minute']:6.1f}   {100 * (on_ray / two - 1):+.1f} % time vs the local pool")
        same = (work / f"{name}-2" / "manifest.jsonl").read_bytes() == (work / f"{name}-ray" / "manifest.jsonl").read_bytes()
        print(f"  ray and local manifests identical: {same}")
    print(f"  direct, 1 process: {alone:7.1f} s  -> batch overhead {1000 * (one - alone) / items:+.0f} ms per item "
          f"(1 worker, start-up included)")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=16, help="items of the sim-only sweep (0: skip)")
    parser.add_argument("--sim2real-items", type=int, default=0, help="items of the Sim2Real sweep (0: skip)")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MUJOCO_GL", "egl")
    print(f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        if args.items:
            measure("sim_dataset", SWEEPS / "sim_dataset.toml", args.items, work, not args.no_ray)
        if args.sim2real_items:
            measure("sim2real", SWEEPS / "sim2real.toml", args.sim2real_items, work, not args.no_ray)
        print(f"({time.perf_counter() - t0:.0f} s in all)")


if __name__ == "__main__":
    run()
