"""Runs in a worker thread through the same executor and events as ``worldgraph run``.

The executor calls its handlers on the worker thread; a queued Qt signal hands each event
to the GUI thread. Cancel sets the executor's ``CancelToken``: it stops between nodes
and inside long loops (at the next ``ctx.progress``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from worldgraph.nodes import CancelToken, Executor, Graph, RunResult, WorldgraphError
from worldgraph.nodes import events as ev


class _Worker(QThread):
    node_event = Signal(object)
    done = Signal(object, str)  # RunResult or None, error text

    def __init__(self, executor: Executor, graph: Graph, out_dir: Path, cancel: CancelToken) -> None:
        super().__init__()
        self.executor, self.graph, self.out_dir, self.cancel = executor, graph, out_dir, cancel

    def run(self) -> None:
        self.executor.handlers = [self.node_event.emit]
        try:
            result = self.executor.run(self.graph, self.out_dir, cancel=self.cancel)
        except WorldgraphError as e:
            self.done.emit(None, str(e))
        except Exception as e:  # a bug must end the run, not the editor
            self.done.emit(None, f"internal error: {type(e).__name__}: {e}")
        else:
            self.done.emit(result, "")
        finally:
            self.executor.handlers = []


class RunController(QObject):
    """One executor per editor, so its output cache carries across runs: unchanged nodes
    come back cached, as in the CLI within one process."""

    node_event = Signal(object)  # worldgraph.nodes.events.Event, on the GUI thread
    finished = Signal(object, str)  # RunResult | None, error text
    running_changed = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.executor = Executor()
        self._worker: _Worker | None = None
        self._cancel: CancelToken | None = None
        self.last: RunResult | None = None

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self, graph: Graph, out_dir: Path) -> None:
        if self._worker is not None:
            raise WorldgraphError("a run is already going")
        self._cancel = CancelToken()
        worker = self._worker = _Worker(self.executor, graph, out_dir, self._cancel)
        worker.node_event.connect(self.node_event.emit)
        worker.done.connect(self._done)
        self.running_changed.emit(True)
        worker.start()

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def wait(self, ms: int = 30000) -> bool:
        return self._worker.wait(ms) if self._worker is not None else True

    def _done(self, result: Any, error: str) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.wait()
            worker.deleteLater()
        if result is not None:
            self.last = result
        self.running_changed.emit(False)
        self.finished.emit(result, error)


def describe(event: ev.Event) -> tuple[str, str, float | None, str]:
    """(node state, badge text, progress fraction, log line) for an event with a node."""
    if isinstance(event, ev.NodeStarted):
        return "running", "running", 0.0, f"{event.path}: started"
    if isinstance(event, ev.NodeProgress):
        frac = event.value / event.max if event.max else 0.0
        return "running", f"running {frac:.0%}", frac, ""
    if isinstance(event, ev.NodeCached):
        return "cached", "cached", None, f"{event.path}: cached"
    if isinstance(event, ev.NodeFinished):
        return "done", f"done {event.seconds:.2f} s", None, f"{event.path}: done in {event.seconds:.2f} s"
    if isinstance(event, ev.NodeFailed):
        return "failed", "failed", None, f"{event.path}: failed: {event.message}"
    if isinstance(event, ev.NodeBlocked):
        return "blocked", "blocked", None, f"{event.path}: blocked by {event.by}: {event.reason}"
    if isinstance(event, ev.NodeSkipped):
        return "skipped", "skipped", None, f"{event.path}: skipped ({event.because})"
    if isinstance(event, ev.RunCancelled) and event.path:
        return "cancelled", "cancelled", None, f"{event.path}: cancelled"
    return "", "", None, ""
