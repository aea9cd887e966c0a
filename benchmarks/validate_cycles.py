"""Validation time of large graphs: a chain of N nodes, without and with a cycle (the last
node feeding the first, so every node is on it). Target: 10,000 nodes with a cycle in
under 1 s (cycle detection is one linear-time pass, whatever the graph's shape).

    python benchmarks/validate_cycles.py [--nodes 10000] [--repeats 3]

The graphs are built as the file loader builds them (``Graph.connect`` refuses cycles).
"""

from __future__ import annotations

import argparse
import time

from worldgraph.nodes import Connection, Graph, Input, NodeInstance, Output, Registry, node, validate
from worldgraph.nodes.types import FLOAT


@node("bench.math.Inc", inputs=[Input("x", FLOAT, 0.0)], outputs=[Output("y", FLOAT)])
def Inc(ctx, x: float) -> dict[str, float]:
    """x + 1."""
    return {"y": x + 1.0}


def chain(n: int, cycle: bool) -> Graph:
    g = Graph("/Chain", registry=Registry([Inc]))
    for i in range(n):
        source = i - 1 if i else (n - 1 if cycle else None)
        connections = {"x": Connection(f"/Chain/n{source}", "y")} if source is not None else {}
        g.nodes[f"/Chain/n{i}"] = NodeInstance(f"/Chain/n{i}", "bench.math.Inc", 1, connections=connections)
    return g


def best_of(repeats: int, graph: Graph) -> tuple[float, int]:
    times, problems = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        problems = len(validate(graph))
        times.append(time.perf_counter() - t0)
    return min(times), problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"validate a chain of {args.nodes} nodes (best of {args.repeats})")
    for cycle in (False, True):
        seconds, problems = best_of(args.repeats, chain(args.nodes, cycle))
        label = "with a cycle   " if cycle else "without a cycle"
        verdict = f"  (target < 1 s: {'met' if seconds < 1 else 'MISSED'})" if cycle else ""
        print(f"  {label} {seconds:9.3f} s, {problems} problem(s){verdict}")


if __name__ == "__main__":
    main()
