"""Structured run events. The CLI turns them into progress bars or JSON lines, the
editor into per-node state: one stream, many views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, **asdict(self)}


@dataclass(frozen=True)
class GraphStarted(Event):
    kind: ClassVar[str] = "graph_started"
    graph: str
    nodes: int
    seed: int


@dataclass(frozen=True)
class NodeStarted(Event):
    kind: ClassVar[str] = "node_started"
    path: str
    type: str


@dataclass(frozen=True)
class NodeProgress(Event):
    kind: ClassVar[str] = "node_progress"
    path: str
    value: int
    max: int


@dataclass(frozen=True)
class NodeCached(Event):
    kind: ClassVar[str] = "node_cached"
    path: str
    type: str


@dataclass(frozen=True)
class NodeFinished(Event):
    kind: ClassVar[str] = "node_finished"
    path: str
    type: str
    seconds: float
    outputs: dict[str, str] = field(default_factory=dict)  # output name -> summary


@dataclass(frozen=True)
class NodeFailed(Event):
    kind: ClassVar[str] = "node_failed"
    path: str
    type: str
    message: str
    inputs: dict[str, str] = field(default_factory=dict)  # input name -> summary


@dataclass(frozen=True)
class NodeBlocked(Event):
    """A node did not run because ``by`` blocked (a guardrail said no), or ``by`` itself."""

    kind: ClassVar[str] = "node_blocked"
    path: str
    by: str
    reason: str


@dataclass(frozen=True)
class NodeSkipped(Event):
    """A node did not run because a node it needs failed."""

    kind: ClassVar[str] = "node_skipped"
    path: str
    because: str


@dataclass(frozen=True)
class RunCancelled(Event):
    kind: ClassVar[str] = "cancelled"
    path: str | None  # the node it stopped in, or None between nodes


@dataclass(frozen=True)
class GraphFinished(Event):
    kind: ClassVar[str] = "graph_finished"
    graph: str
    status: str  # ok | blocked | failed | cancelled
    seconds: float
    ran: int
    cached: int


Handler = Callable[[Event], None]
