"""Errors a user may see. Each carries a message that names the file, prim or input."""

from __future__ import annotations


class WorldgraphError(Exception):
    """Base of every error worldgraph reports to a user (never shown with a traceback)."""


class GraphFileError(WorldgraphError):
    """A graph file cannot be read or written at all (missing, not USD, no graph prim)."""


class GraphEditError(WorldgraphError):
    """An edit of the in-memory graph was refused (unknown node, wrong port type, ...)."""


class UnknownNodeType(WorldgraphError):
    """No node type with that id is registered."""


class NodeError(WorldgraphError):
    """Raised by a node's compute for a problem with its inputs, e.g. an unreadable video."""


class Blocked(Exception):
    """Raised by a node's compute to stop the nodes that need it, as a result, not a crash.

    A guardrail raises it for an unsafe prompt; the run reports
    "blocked by <node>: <reason>" and exits successfully.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Cancelled(Exception):
    """The run was cancelled; raised inside long loops by ``Context.progress``."""
