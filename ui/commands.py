"""Undo commands over the plain graph model: one command per user change.

Every command stores the affected nodes before and after the change (and the node
order, so an undone delete comes back where it was in the file); redo and undo just put
one snapshot back. The edit itself ran once, through ``Graph``'s checked methods, before
the command was pushed, so a refused edit never reaches the stack."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtGui import QUndoCommand

from worldgraph.nodes import Graph, NodeInstance


@dataclass
class Snapshot:
    order: list[str]
    nodes: dict[str, NodeInstance | None]  # None: the node does not exist


def take(graph: Graph, paths: Iterable[str]) -> Snapshot:
    return Snapshot(list(graph.nodes), {p: copy.deepcopy(graph.nodes.get(p)) for p in paths})


def restore(graph: Graph, snap: Snapshot) -> None:
    for path, node in snap.nodes.items():
        if node is None:
            graph.nodes.pop(path, None)
        else:
            graph.nodes[path] = copy.deepcopy(node)
    # file order is save order: keep it as it was at that point
    graph.nodes = {p: graph.nodes[p] for p in snap.order if p in graph.nodes} | {
        p: n for p, n in graph.nodes.items() if p not in snap.order
    }


class SnapshotCommand(QUndoCommand):
    def __init__(
        self,
        text: str,
        graph: Graph,
        before: Snapshot,
        after: Snapshot,
        notify: Callable[[set[str]], None],
    ) -> None:
        super().__init__(text)
        self.graph, self.before, self.after, self.notify = graph, before, after, notify
        self._first = True

    def redo(self) -> None:
        if self._first:  # the edit already ran; views still need to hear about it
            self._first = False
        else:
            restore(self.graph, self.after)
        self.notify(set(self.after.nodes))

    def undo(self) -> None:
        restore(self.graph, self.before)
        self.notify(set(self.before.nodes))
