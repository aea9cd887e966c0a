"""The editor's document: a ``Graph`` from ``worldgraph.nodes`` plus its file, its undo
stack and change notifications. No widgets here: the canvas, the properties panel and
the tests all edit through these methods, and every edit is one undo command."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from worldgraph.nodes import (
    Graph,
    GraphEditError,
    Problem,
    Registry,
    default_registry,
    load_graph,
    save_graph,
    validate,
)

from .commands import SnapshotCommand, take


def prim_name(type_id: str) -> str:
    """A node's default prim name from its type: worldgraph.io.LoadVideo -> load_video."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type_id.rsplit(".", 1)[-1]).lower()


class GraphDocument(QObject):
    changed = Signal(object)  # set of node paths whose data changed (added, removed or edited)
    reset = Signal()  # a new graph was loaded: rebuild every view

    def __init__(self, registry: Registry | None = None) -> None:
        super().__init__()
        self.registry = registry or default_registry()
        self.graph = Graph("/Graph", registry=self.registry)
        self.file: Path | None = None
        self.undo_stack = QUndoStack(self)

    # ------------------------------------------------------------------ files

    def new(self, graph_path: str = "/Graph") -> None:
        self._replace(Graph(graph_path, registry=self.registry), None)

    def open(self, file: Path) -> None:
        """Load ``file``; raises ``GraphFileError`` naming the file (and prim) when it cannot."""
        self._replace(load_graph(file, self.registry), file)

    def save(self, file: Path | None = None) -> Path:
        target = file or self.file
        if target is None:
            raise GraphEditError("this graph has no file yet: use Save As")
        save_graph(self.graph, target)
        if target != self.file:  # relative assets now resolve from the new folder
            self.graph.base_dir = target.resolve().parent
        self.file = target
        self.undo_stack.setClean()
        return target

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def _replace(self, graph: Graph, file: Path | None) -> None:
        self.graph, self.file = graph, file
        self.undo_stack.clear()
        self.reset.emit()

    # ------------------------------------------------------------------ edits

    def problems(self) -> list[Problem]:
        return validate(self.graph)

    def add_node(self, type_id: str, pos: tuple[float, float] | None = None,
                 name: str | None = None) -> str:
        base = name or prim_name(type_id)
        name, i = base, 1
        while self.graph.resolve(name) in self.graph.nodes:
            name, i = f"{base}_{i}", i + 1
        path = self.graph.resolve(name)
        self._edit(f"add {name}", [path],
                   lambda: self.graph.add_node(name, type_id, pos=pos))
        return path

    def remove_nodes(self, paths: Iterable[str]) -> None:
        paths = [p for p in paths if p in self.graph.nodes]
        if not paths:
            return
        touched = set(paths) | {c for p in paths for c in self.graph.consumers().get(p, [])}

        def remove() -> None:
            for p in paths:
                self.graph.remove_node(p)

        names = ", ".join(p.rsplit("/", 1)[-1] for p in paths)
        self._edit(f"delete {names}", touched, remove)

    def set_value(self, path: str, input_name: str, value: Any) -> None:
        node = self.graph.node(path)
        if input_name in node.values and node.values[input_name] == value and \
                type(node.values[input_name]) is type(value):
            return  # no change, no undo step
        self._edit(f"set {node.name}.{input_name}", [path],
                   lambda: self.graph.set_value(path, input_name, value))

    def reset_value(self, path: str, input_name: str) -> None:
        """Back to the schema's default: the input is no longer authored."""
        node = self.graph.node(path)
        if input_name not in node.values:
            return
        self._edit(f"reset {node.name}.{input_name}", [path], lambda: node.values.pop(input_name))

    def connect_ports(self, source: str, output: str, target: str, input_name: str) -> None:
        """Raises ``GraphEditError`` with the reason when the connection is refused."""
        self._edit(f"connect {source.rsplit('/', 1)[-1]}.{output} -> "
                   f"{target.rsplit('/', 1)[-1]}.{input_name}", [target],
                   lambda: self.graph.connect(source, output, target, input_name))

    def disconnect_input(self, target: str, input_name: str) -> None:
        self._edit(f"disconnect {target.rsplit('/', 1)[-1]}.{input_name}", [target],
                   lambda: self.graph.disconnect(target, input_name))

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> None:
        positions = {p: xy for p, xy in positions.items()
                     if p in self.graph.nodes and self.graph.nodes[p].pos != xy}
        if not positions:
            return

        def move() -> None:
            for p, xy in positions.items():
                self.graph.nodes[p].pos = xy

        self._edit(f"move {len(positions)} node(s)", positions, move)

    def _edit(self, text: str, paths: Iterable[str], edit: Callable[[], Any]) -> None:
        paths = list(paths)
        before = take(self.graph, paths)
        edit()  # raises GraphEditError: nothing changed, nothing pushed
        after = take(self.graph, paths)
        self.undo_stack.push(SnapshotCommand(text, self.graph, before, after, self.changed.emit))

    def snapshot(self) -> Graph:
        """A copy for a run in another thread, so edits meanwhile cannot race it."""
        copied = Graph(self.graph.path, registry=self.registry, base_dir=self.graph.base_dir,
                       seed=self.graph.seed)
        copied.nodes = copy.deepcopy(self.graph.nodes)
        copied.load_problems = list(self.graph.load_problems)
        return copied
