"""Validation: every problem in a graph, collected at once, before anything runs."""

from __future__ import annotations

from collections import deque

from .errors import WorldgraphError
from .graph import Graph
from .problems import Problem


def validate(graph: Graph) -> list[Problem]:
    """Every problem with ``graph``: types, values, ranges, connections, cycles."""
    found = [(p.path, p.input, p.code, p.reason) for p in graph.load_problems]

    def report(path: str, input_name: str | None, code: str, reason: str) -> None:
        found.append((path, input_name, code, reason))

    for n in graph.nodes.values():
        if n.type_id not in graph.registry:
            report(n.path, None, "unknown-type", _unknown_type_reason(graph, n.type_id))
            continue
        schema = graph.registry.get(n.type_id).schema
        if n.type_version > schema.version:
            report(
                n.path, None, "newer-version",
                f"{n.type_id} version {n.type_version} is newer than this worldgraph's "
                f"version {schema.version}; upgrade worldgraph to run it",
            )
        for name, value in n.values.items():
            spec = schema.input(name)
            if spec is None:
                report(n.path, name, "unknown-input", f"{n.type_id} has no input {name!r}")
            elif problem := spec.check_value(value):
                report(n.path, name, "bad-value", problem)
        for name, conn in n.connections.items():
            spec = schema.input(name)
            if spec is None:
                report(n.path, name, "unknown-input", f"{n.type_id} has no input {name!r}")
                continue
            src = graph.nodes.get(conn.node)
            if src is None:
                report(n.path, name, "dangling-connection",
                       f"connected to {conn}, but there is no node {conn.node}")
                continue
            if src.type_id not in graph.registry:
                continue  # reported on the source node
            out = graph.registry.get(src.type_id).schema.output(conn.output)
            if out is None:
                report(
                    n.path, name, "dangling-connection",
                    f"connected to {conn}, but {src.type_id} has no output {conn.output!r}",
                )
            elif not spec.type.accepts(out.type):
                report(
                    n.path, name, "incompatible-connection",
                    f"{conn} gives {out.type}, this input takes {spec.type}",
                )
        for spec in schema.inputs:
            if spec.required and spec.name not in n.values and spec.name not in n.connections:
                how = "connected" if spec.type.connection_only else "set or connected"
                report(n.path, spec.name, "missing-input", f"required {spec.type} input is not {how}")

    consumers = graph.consumers()
    starts: dict[int, list[str]] = {}  # a cycle problem blocks from every node on the cycle
    for cycle in graph.cycles(consumers):
        starts[len(found)] = cycle
        report(graph.path, None, "cycle", "nodes form a cycle: " + _cycle_text(cycle))

    blocked = _Blocked(graph, consumers)
    return [
        Problem(path, name, code, reason, blocked.by(starts.get(i, [path])))
        for i, (path, name, code, reason) in enumerate(found)
    ]


def _cycle_text(cycle: list[str], shown: int = 8) -> str:
    """``a -> b -> c -> a``; a long cycle shows its first and last nodes and its length."""
    if len(cycle) <= shown:
        return " -> ".join([*cycle, cycle[0]])
    return " -> ".join([*cycle[: shown - 2], "...", *cycle[-2:], cycle[0]]) + f" ({len(cycle)} nodes)"


class _Blocked:
    """The outputs a problem at some nodes blocks: theirs and those of every node downstream.
    Each answer costs what it lists (one walk over shared consumer lists, sorted into file
    order), never a pass over the whole graph; answers are remembered per set of nodes."""

    def __init__(self, graph: Graph, consumers: dict[str, list[str]]) -> None:
        self.graph, self.consumers = graph, consumers
        self.position = {p: i for i, p in enumerate(graph.nodes)}
        self.known: dict[tuple[str, ...], tuple[str, ...]] = {}

    def by(self, starts: list[str]) -> tuple[str, ...]:
        key = tuple(starts)
        if key not in self.known:
            self.known[key] = self._walk(starts)
        return self.known[key]

    def _walk(self, starts: list[str]) -> tuple[str, ...]:
        graph, seen = self.graph, set(starts)
        todo = deque(starts)
        while todo:
            for consumer in self.consumers.get(todo.popleft(), ()):
                if consumer not in seen:
                    seen.add(consumer)
                    todo.append(consumer)
        behind = sorted((p for p in seen.difference(starts) if p in self.position), key=self.position.__getitem__)
        blocked: list[str] = []
        for p in dict.fromkeys((*starts, *behind)):
            n = graph.nodes.get(p)
            if n is None:
                continue
            outputs = graph.registry.get(n.type_id).schema.outputs if n.type_id in graph.registry else ()
            blocked += [f"{p}.outputs:{o.name}" for o in outputs] or [p]
        return tuple(blocked)


def _unknown_type_reason(graph: Graph, type_id: str) -> str:
    try:
        graph.registry.get(type_id)
    except WorldgraphError as e:
        return f"{e}; is the node pack that provides it installed?"
    return ""
