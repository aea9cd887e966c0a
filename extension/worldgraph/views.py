"""How the CLI shows run events: rich progress bars on a terminal, plain lines in a log,
JSON lines for machines. All three are handlers of the executor's one event stream."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from worldgraph.nodes import events as ev


class JsonLines:
    """One JSON object per event on ``stream``: machine-readable progress."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: ev.Event) -> None:
        self.write(event.to_json())

    def write(self, obj: dict[str, Any]) -> None:
        self.stream.write(json.dumps(obj, default=str) + "\n")
        self.stream.flush()


class PlainLines:
    """A line per finished, cached, failed or blocked node: for logs and pipes."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, event: ev.Event) -> None:
        line = _describe(event)
        if line:
            print(line, file=self.stream, flush=True)


class RichProgress:
    """A bar per node, filled by its progress events; a final mark when it ends."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, event: ev.Event) -> None:
        p = self.progress
        if isinstance(event, ev.GraphStarted):
            p.start()
        elif isinstance(event, ev.NodeStarted):
            self.tasks[event.path] = p.add_task(f"  {event.path}", total=None)
        elif isinstance(event, ev.NodeProgress) and event.path in self.tasks:
            p.update(self.tasks[event.path], completed=event.value, total=event.max)
        elif isinstance(event, ev.GraphFinished):
            p.stop()
        elif (line := _describe(event)) is not None:
            task = self.tasks.get(getattr(event, "path", "") or "")
            if task is None:
                task = p.add_task("", total=1)
            total = p.tasks[task].total or 1
            p.update(task, description=line, completed=total, total=total)


def _describe(event: ev.Event) -> str | None:
    if isinstance(event, ev.NodeFinished):
        return f"✓ {event.path} ({event.seconds:.2f} s)"
    if isinstance(event, ev.NodeCached):
        return f"↺ {event.path} (cached)"
    if isinstance(event, ev.NodeFailed):
        return f"✗ {event.path} failed: {event.message}"
    if isinstance(event, ev.NodeBlocked):
        return f"■ {event.path} blocked by {event.by}: {event.reason}"
    if isinstance(event, ev.NodeSkipped):
        return f"- {event.path} skipped: {event.because}"
    if isinstance(event, ev.RunCancelled):
        return f"cancelled{' in ' + event.path if event.path else ''}"
    return None
