"""Left-to-right layout for nodes the file gives no position: a column per depth."""

from __future__ import annotations

from worldgraph.nodes import Graph

COLUMN, ROW = 300.0, 170.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """A position for every node: sources in column 0, each node one column right of its
    deepest input; rows in file order within a column."""
    order, cyclic = graph.topological_order()
    depth: dict[str, int] = {}
    for path in order + cyclic:
        inputs = [depth[p] for p in graph.inputs_of(path) if p in depth]
        depth[path] = max(inputs, default=-1) + 1
    rows: dict[int, int] = {}
    out = {}
    for path in graph.nodes:
        column = depth[path]
        row = rows[column] = rows.get(column, -1) + 1
        out[path] = (column * COLUMN, row * ROW)
    return out
