"""The in-memory graph: node instances keyed by prim path, values and connections.

Edits go through methods that check against the registry and raise ``GraphEditError``;
a graph loaded from a file may hold anything (unknown types, bad values) so that the
validator can report every problem at once instead of the loader stopping at the first.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GraphEditError, UnknownNodeType
from .problems import Problem
from .registry import Registry, default_registry

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Connection:
    """The source of a connected input: a node's prim path and one of its outputs."""

    node: str
    output: str

    def __str__(self) -> str:
        return f"{self.node}.outputs:{self.output}"


@dataclass
class NodeInstance:
    path: str  # prim path, e.g. /Edges/canny: the node's identity
    type_id: str
    type_version: int
    values: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    pos: tuple[float, float] | None = None  # editor layout
    authored_types: dict[str, str] = field(default_factory=dict)  # USD types as read from a file

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class Graph:
    def __init__(
        self,
        path: str = "/Graph",
        *,
        registry: Registry | None = None,
        base_dir: Path | None = None,
        seed: int = 0,
    ) -> None:
        if not path.startswith("/") or not _IDENTIFIER.match(path.rsplit("/", 1)[-1]):
            raise GraphEditError(f"graph path {path!r} is not an absolute prim path")
        self.path = path
        self.registry = registry or default_registry()
        self.base_dir = base_dir  # relative asset paths resolve from here
        self.seed = seed
        self.nodes: dict[str, NodeInstance] = {}
        self.load_problems: list[Problem] = []  # what the file loader could not make sense of

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    # ------------------------------------------------------------------ lookups

    def node(self, name_or_path: str) -> NodeInstance:
        path = self.resolve(name_or_path)
        try:
            return self.nodes[path]
        except KeyError:
            raise GraphEditError(f"{self.path} has no node {name_or_path!r}") from None

    def resolve(self, name_or_path: str) -> str:
        return name_or_path if name_or_path.startswith("/") else f"{self.path}/{name_or_path}"

    def asset_path(self, value: str) -> Path:
        """An asset input's file: relative paths resolve from the graph file's folder."""
        return (self.base_dir or Path.cwd()).joinpath(value).resolve()

    def inputs_of(self, path: str) -> set[str]:
        """Paths of the nodes whose outputs feed ``path`` directly."""
        return {c.node for c in self.nodes[path].connections.values()}

    def consumers(self) -> dict[str, list[str]]:
        """For every node, the nodes that take one of its outputs."""
        out: dict[str, list[str]] = {p: [] for p in self.nodes}
        for n in self.nodes.values():
            for source in dict.fromkeys(c.node for c in n.connections.values()):
                out.setdefault(source, []).append(n.path)
        return out

    def downstream(self, paths: Iterable[str]) -> list[str]:
        """Every node that depends on any of ``paths``, in graph order (not including them)."""
        consumers = self.consumers()
        seen: set[str] = set()
        todo = deque(paths)
        while todo:
            for consumer in consumers.get(todo.popleft(), ()):
                if consumer not in seen:
                    seen.add(consumer)
                    todo.append(consumer)
        return [p for p in self.nodes if p in seen]

    def topological_order(self) -> tuple[list[str], list[str]]:
        """(nodes with sources first, nodes on or behind a cycle). Among the nodes that are
        ready, the one earliest in the file goes first, so the order is stable."""
        index = {p: i for i, p in enumerate(self.nodes)}
        waiting = {p: len(self.inputs_of(p) & index.keys()) for p in self.nodes}
        ready = [index[p] for p, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        paths, consumers, order = list(self.nodes), self.consumers(), []
        while ready:
            p = paths[heapq.heappop(ready)]
            order.append(p)
            for q in consumers[p]:
                waiting[q] -= 1
                if waiting[q] == 0:
                    heapq.heappush(ready, index[q])
        done = set(order)
        return order, [p for p in self.nodes if p not in done]

    def cycles(self, consumers: dict[str, list[str]] | None = None) -> list[list[str]]:
        """One cycle per group of nodes that depend on each other, as the nodes along it
        (the group's first node in the file first; the last feeds the first), groups in file
        order. Linear time: Tarjan's strongly connected components, iterative (no recursion
        limit), over what Kahn's peeling leaves, then a breadth-first walk inside each group
        for its shortest cycle."""
        consumers = self.consumers() if consumers is None else consumers
        # peel off the nodes every input of which is peeled (Kahn): what stays is on a cycle
        # or behind one, usually nothing, and only that is searched for groups
        waiting = dict.fromkeys(self.nodes, 0)
        for source, targets in consumers.items():
            if source in waiting:
                for target in targets:
                    waiting[target] += 1
        ready = [p for p, count in waiting.items() if count == 0]
        while ready:
            for target in consumers.get(ready.pop(), ()):
                waiting[target] -= 1
                if waiting[target] == 0:
                    ready.append(target)
        left = [p for p, count in waiting.items() if count > 0]
        order: dict[str, int] = {}  # discovery index
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        groups: list[list[str]] = []
        for root in left:
            if root in order:
                continue
            order[root] = low[root] = len(order)
            stack.append(root)
            on_stack.add(root)
            work = [(root, iter(consumers.get(root, ())))]
            while work:
                v, todo = work[-1]
                for w in todo:
                    if w not in order:  # descend into w; v's remaining edges wait in ``todo``
                        order[w] = low[w] = len(order)
                        stack.append(w)
                        on_stack.add(w)
                        work.append((w, iter(consumers.get(w, ()))))
                        break
                    if w in on_stack:
                        low[v] = min(low[v], order[w])
                else:  # every edge of v seen
                    work.pop()
                    if work:
                        parent = work[-1][0]
                        low[parent] = min(low[parent], low[v])
                    if low[v] == order[v]:  # v roots a group: pop it
                        group = []
                        while True:
                            w = stack.pop()
                            on_stack.discard(w)
                            group.append(w)
                            if w == v:
                                break
                        if len(group) > 1 or v in consumers.get(v, ()):
                            groups.append(group)
        position = {p: i for i, p in enumerate(self.nodes)}
        return sorted(
            (self._cycle_in(set(g), min(g, key=position.__getitem__), consumers) for g in groups),
            key=lambda cycle: position[cycle[0]],
        )

    @staticmethod
    def _cycle_in(group: set[str], start: str, consumers: dict[str, list[str]]) -> list[str]:
        """The shortest cycle through ``start`` inside ``group`` (a strongly connected group)."""
        parent: dict[str, str] = {}
        todo = deque([start])
        while todo:
            v = todo.popleft()
            for w in consumers.get(v, ()):
                if w == start:  # back at the start: walk the parents home
                    cycle = [v]
                    while cycle[-1] != start:
                        cycle.append(parent[cycle[-1]])
                    return cycle[::-1]
                if w in group and w not in parent:
                    parent[w] = v
                    todo.append(w)
        raise AssertionError(f"{start} is on no cycle inside its group")

    # ------------------------------------------------------------------ edits

    def add_node(
        self,
        name: str,
        type_id: str,
        *,
        values: dict[str, Any] | None = None,
        pos: tuple[float, float] | None = None,
    ) -> NodeInstance:
        if not _IDENTIFIER.match(name):
            raise GraphEditError(f"node name {name!r} is not a valid USD prim name")
        path = self.resolve(name)
        if path in self.nodes:
            raise GraphEditError(f"{path} already exists")
        try:
            node_type = self.registry.get(type_id)
        except UnknownNodeType as e:
            raise GraphEditError(str(e)) from None
        instance = NodeInstance(path, type_id, node_type.schema.version, pos=pos)
        self.nodes[path] = instance
        for key, value in (values or {}).items():
            try:
                self.set_value(path, key, value)
            except GraphEditError:
                del self.nodes[path]
                raise
        return instance

    def remove_node(self, name_or_path: str) -> None:
        path = self.node(name_or_path).path
        del self.nodes[path]
        for n in self.nodes.values():
            n.connections = {k: c for k, c in n.connections.items() if c.node != path}

    def set_value(self, name_or_path: str, input_name: str, value: Any) -> None:
        """Set an input's value; it replaces a connection to that input."""
        n = self.node(name_or_path)
        spec = self.registry.get(n.type_id).schema.input(input_name)
        if spec is None:
            raise GraphEditError(f"{n.path} ({n.type_id}) has no input {input_name!r}")
        if problem := spec.check_value(value):
            raise GraphEditError(f"{n.path}.inputs:{input_name}: {problem}")
        n.connections.pop(input_name, None)
        n.values[input_name] = value

    def connect(self, source: str, output: str, target: str, input_name: str) -> None:
        """Connect ``source.outputs:output`` to ``target.inputs:input_name``."""
        src, dst = self.node(source), self.node(target)
        out_spec = self.registry.get(src.type_id).schema.output(output)
        in_spec = self.registry.get(dst.type_id).schema.input(input_name)
        if out_spec is None:
            raise GraphEditError(f"{src.path} ({src.type_id}) has no output {output!r}")
        if in_spec is None:
            raise GraphEditError(f"{dst.path} ({dst.type_id}) has no input {input_name!r}")
        if not in_spec.type.accepts(out_spec.type):
            raise GraphEditError(
                f"cannot connect {src.path}.outputs:{output} ({out_spec.type}) to "
                f"{dst.path}.inputs:{input_name} ({in_spec.type})"
            )
        if src.path == dst.path or src.path in self.downstream([dst.path]):
            raise GraphEditError(
                f"connecting {src.path} to {dst.path} would make a cycle"
            )
        dst.values.pop(input_name, None)
        dst.connections[input_name] = Connection(src.path, output)

    def disconnect(self, target: str, input_name: str) -> None:
        n = self.node(target)
        if n.connections.pop(input_name, None) is None:
            raise GraphEditError(f"{n.path}.inputs:{input_name} is not connected")
