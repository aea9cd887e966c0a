"""Runs a validated graph in topological order, with a cache, seeds, events and cancel."""

from __future__ import annotations

import hashlib
import time
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import OutputCache, signature
from .context import CancelToken, Context
from .errors import Blocked, Cancelled, WorldgraphError
from .events import (
    Event,
    GraphFinished,
    GraphStarted,
    Handler,
    NodeBlocked,
    NodeCached,
    NodeFailed,
    NodeFinished,
    NodeSkipped,
    NodeStarted,
    RunCancelled,
)
from .graph import Graph, NodeInstance
from .problems import GraphInvalid
from .schema import REQUIRED, NodeType
from .types import ASSET, FILE, Verdict, summarize
from .validate import validate


def node_seed(graph_seed: int, path: str) -> int:
    """A node's seed: stable for the same graph seed and prim path, independent per node."""
    digest = hashlib.sha256(f"{graph_seed}:{path}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1  # 63 bits: fits every RNG's seed


@dataclass
class Failure:
    path: str
    type: str
    message: str
    inputs: dict[str, str]
    traceback: str  # for --debug; never shown by default

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.inputs.items()) or "no inputs"
        return f"{self.path} ({self.type}) failed: {self.message} [inputs: {shown}]"


@dataclass
class RunResult:
    graph: str
    status: str  # ok | blocked | failed | cancelled
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # node -> output -> value
    ran: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # node -> "blocked by X: reason"
    seconds: float = 0.0

    @property
    def files(self) -> list[Path]:
        """Files the graph's nodes wrote (or found cached), in graph order."""
        return [v for outs in self.outputs.values() for v in outs.values() if isinstance(v, Path)]

    @property
    def verdicts(self) -> dict[str, str]:
        """Every guardrail verdict of the run ("node.output" -> its summary, which names the
        stages that ran and their settings); a blocking guard's is in ``blocked`` instead."""
        return {f"{node}.{name}": v.summary() for node, outs in self.outputs.items()
                for name, v in outs.items() if isinstance(v, Verdict)}


class Executor:
    """Runs graphs; keep one per process (or editor) so its cache carries across runs."""

    def __init__(self, cache: OutputCache | None = None, handlers: Iterable[Handler] = ()) -> None:
        self.cache = cache if cache is not None else OutputCache()
        self.handlers = list(handlers)

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler(event)

    def run(
        self,
        graph: Graph,
        out_dir: Path,
        *,
        seed: int | None = None,
        cancel: CancelToken | None = None,
    ) -> RunResult:
        problems = validate(graph)
        if problems:
            raise GraphInvalid(graph.path, problems)
        seed = graph.seed if seed is None else seed
        cancel = cancel or CancelToken()
        order, _ = graph.topological_order()
        result = RunResult(graph.path, "ok")
        keys: dict[str, str] = {}
        unavailable: dict[str, Event] = {}  # node -> why it did not produce outputs
        start = time.perf_counter()
        self.emit(GraphStarted(graph.path, len(order), seed))

        for path in order:
            if cancel.cancelled:
                self.emit(RunCancelled(None))
                result.status = "cancelled"
                break
            n = graph.nodes[path]
            node_type = graph.registry.get(n.type_id)
            if why := self._upstream_problem(n, unavailable):
                unavailable[path] = why
                if isinstance(why, NodeBlocked):
                    result.blocked[path] = f"blocked by {why.by}: {why.reason}"
                self.emit(why)
                continue

            inputs = self._gather_inputs(graph, n, node_type, result.outputs)
            key = keys[path] = self._key(graph, n, node_type, seed, out_dir, keys)
            if node_type.schema.deterministic and (hit := self.cache.get(key)) is not None:
                result.outputs[path] = hit
                result.cached.append(path)
                self.emit(NodeCached(path, n.type_id))
                continue

            self.emit(NodeStarted(path, n.type_id))
            ctx = Context(
                path,
                node_seed(seed, path) if node_type.schema.seeded else None,
                out_dir,
                self.emit,
                cancel,
            )
            t0 = time.perf_counter()
            try:
                outputs = self._compute(node_type, ctx, inputs)
            except Blocked as b:
                event = unavailable[path] = NodeBlocked(path, path, b.reason)
                result.blocked[path] = f"blocked by {path}: {b.reason}"
                self.emit(event)
                continue
            except Cancelled:
                self.emit(RunCancelled(path))
                result.status = "cancelled"
                break
            except Exception as e:  # any node error is a result, reported with its inputs
                message = str(e) if isinstance(e, WorldgraphError) else f"{type(e).__name__}: {e}"
                summaries = {k: summarize(v) for k, v in inputs.items() if v is not None}
                failed = NodeFailed(path, n.type_id, message, summaries)
                unavailable[path] = failed
                result.failures.append(
                    Failure(path, n.type_id, message, summaries, traceback.format_exc())
                )
                self.emit(failed)
                continue
            result.outputs[path] = outputs
            result.ran.append(path)
            if node_type.schema.deterministic:
                self.cache.put(key, outputs)
            self.emit(
                NodeFinished(
                    path,
                    n.type_id,
                    round(time.perf_counter() - t0, 6),
                    {k: summarize(v) for k, v in outputs.items()},
                )
            )

        if result.status != "cancelled":
            result.status = "failed" if result.failures else "blocked" if result.blocked else "ok"
        result.seconds = time.perf_counter() - start
        self.emit(
            GraphFinished(
                graph.path, result.status, round(result.seconds, 6),
                len(result.ran), len(result.cached),
            )
        )
        return result

    @staticmethod
    def _upstream_problem(n: NodeInstance, unavailable: dict[str, Event]) -> Event | None:
        for conn in n.connections.values():
            why = unavailable.get(conn.node)
            if isinstance(why, NodeBlocked):
                return NodeBlocked(n.path, why.by, why.reason)
            if why is not None:
                cause = why.because if isinstance(why, NodeSkipped) else f"{conn.node} failed"
                return NodeSkipped(n.path, cause)
        return None

    @staticmethod
    def _gather_inputs(
        graph: Graph,
        n: NodeInstance,
        node_type: NodeType,
        outputs: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for spec in node_type.schema.inputs:
            if spec.name in n.connections:
                conn = n.connections[spec.name]
                value = outputs[conn.node][conn.output]
            elif spec.name in n.values:
                value = n.values[spec.name]
            else:
                value = None if spec.default is REQUIRED else spec.default
            if spec.type is ASSET and isinstance(value, str):
                value = graph.asset_path(value)
            inputs[spec.name] = value
        return inputs

    @staticmethod
    def _key(
        graph: Graph,
        n: NodeInstance,
        node_type: NodeType,
        seed: int,
        out_dir: Path,
        keys: dict[str, str],
    ) -> str:
        schema = node_type.schema
        if not schema.deterministic:
            return uuid.uuid4().hex  # fresh every run, and so are the keys below it
        values: dict[str, Any] = {}
        for spec in schema.inputs:
            if spec.name in n.connections:
                conn = n.connections[spec.name]
                values[spec.name] = ["from", keys[conn.node], conn.output]
            else:
                value = n.values.get(spec.name, spec.default)
                if spec.type is ASSET and isinstance(value, str):
                    value = graph.asset_path(value)
                values[spec.name] = None if value is REQUIRED else value
        parts: dict[str, Any] = {"type": schema.id, "version": schema.version, "inputs": values}
        if schema.seeded:
            parts["seed"] = node_seed(seed, n.path)
        if any(o.type is FILE for o in schema.outputs):
            parts["out_dir"] = str(out_dir.resolve())
        return signature(parts)

    @staticmethod
    def _compute(node_type: NodeType, ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = dict(node_type.compute(ctx, **inputs))
        schema = node_type.schema
        expected = {o.name for o in schema.outputs}
        if set(outputs) != expected:
            raise RuntimeError(
                f"{schema.id} returned outputs {sorted(outputs)}, its schema declares {sorted(expected)}"
            )
        for o in schema.outputs:
            if not isinstance(outputs[o.name], o.type.py):
                raise RuntimeError(
                    f"{schema.id} returned {type(outputs[o.name]).__name__} for output "
                    f"{o.name!r}, its schema declares {o.type}"
                )
        return outputs
