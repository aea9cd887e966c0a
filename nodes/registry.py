"""Which node types exist: the built-in families plus third-party node packs.

A node pack is a module with module-level ``NodeType`` objects (made by ``@node``),
advertised through the ``worldgraph.nodes`` entry-point group::

    [project.entry-points."worldgraph.nodes"]
    mypack = "mypack.nodes"
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

from .errors import UnknownNodeType
from .schema import NodeType

ENTRY_POINT_GROUP = "worldgraph.nodes"
BUILTIN_FAMILIES = (
    "worldgraph.nodes.library.io",
    "worldgraph.nodes.library.controls",
    "worldgraph.nodes.library.scene",
    "worldgraph.nodes.library.dataset",
    "worldgraph.nodes.library.tokenizer",
    "worldgraph.nodes.library.guard",
    "worldgraph.nodes.library.wfm",
    "worldgraph.nodes.library.transfer",
    "worldgraph.nodes.library.curate",
    "worldgraph.nodes.library.plan",
)


def types_in(module: ModuleType) -> list[NodeType]:
    """The node types a module defines at module level."""
    return [v for v in vars(module).values() if isinstance(v, NodeType)]


class Registry:
    def __init__(self, types: Iterable[NodeType] = ()) -> None:
        self._types: dict[str, NodeType] = {}
        self.load_errors: list[str] = []  # node packs that failed to load, with why
        for t in types:
            self.add(t)

    def add(self, node_type: NodeType) -> None:
        if node_type.id in self._types and self._types[node_type.id] is not node_type:
            raise ValueError(f"node type {node_type.id} is registered twice")
        self._types[node_type.id] = node_type

    def add_module(self, name: str) -> None:
        for t in types_in(importlib.import_module(name)):
            self.add(t)

    def get(self, type_id: str) -> NodeType:
        try:
            return self._types[type_id]
        except KeyError:
            close = difflib.get_close_matches(type_id, self._types, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UnknownNodeType(f"unknown node type {type_id!r}{hint}") from None

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._types

    def __iter__(self) -> Iterator[NodeType]:
        return iter(sorted(self._types.values(), key=lambda t: t.id))

    def __len__(self) -> int:
        return len(self._types)


@cache
def default_registry() -> Registry:
    """Built-in families and every installed node pack, loaded once per process."""
    registry = Registry()
    for name in BUILTIN_FAMILIES:
        registry.add_module(name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            registry.add_module(ep.value.split(":")[0])
        except Exception as e:  # a broken pack must not take the built-ins down
            registry.load_errors.append(f"node pack {ep.name!r} ({ep.value}): {e}")
    return registry
