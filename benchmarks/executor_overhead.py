"""Executor overhead: a chain of N trivial nodes run by the executor vs the same
function called N times directly. Target: <= 50 µs per node.

    python benchmarks/executor_overhead.py [--nodes 500] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from worldgraph.nodes import Executor, Graph, Input, Output, Registry, node
from worldgraph.nodes.types import FLOAT


def increment(x: float) -> float:
    return x + 1.0


@node("bench.math.Inc", inputs=[Input("x", FLOAT, 0.0)], outputs=[Output("y", FLOAT)])
def Inc(ctx, x: float) -> dict[str, float]:
    """x + 1."""
    return {"y": increment(x)}


def chain(n: int) -> Graph:
    g = Graph("/Chain", registry=Registry([Inc]))
    for i in range(n):
        g.add_node(f"n{i}", "bench.math.Inc")
        if i:
            g.connect(f"n{i - 1}", "y", f"n{i}", "x")
    return g


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, graph = args.nodes, chain(args.nodes)
    out = Path(tempfile.mkdtemp())

    def direct() -> None:
        x = 0.0
        for _ in range(n):
            x = increment(x)

    def executed() -> None:
        result = Executor().run(graph, out)  # a fresh cache: every node computes
        assert result.outputs[f"/Chain/n{n - 1}"]["y"] == n

    cached_executor = Executor()
    cached_executor.run(graph, out)

    direct_best, _ = best_of(args.repeats * 20, direct)
    run_best, run_median = best_of(args.repeats, executed)
    cached_best, _ = best_of(args.repeats, lambda: cached_executor.run(graph, out))
    per_node = (run_best - direct_best) / n * 1e6
    print(f"chain of {n} trivial nodes (best of {args.repeats})")
    print(f"  direct calls         {direct_best * 1e3:9.3f} ms")
    print(f"  executor, computing  {run_best * 1e3:9.3f} ms (median {run_median * 1e3:.3f} ms)")
    print(f"  executor, all cached {cached_best * 1e3:9.3f} ms")
    verdict = "met" if per_node <= 50 else "MISSED"
    print(f"  overhead per node    {per_node:9.1f} µs  (target <= 50 µs: {verdict})")
    print(f"  cached, per node     {cached_best / n * 1e6:9.1f} µs")
    print(f"  ratio executor/direct {run_best / direct_best:8.0f}x")


if __name__ == "__main__":
    main()
