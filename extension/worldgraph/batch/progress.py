"""How ``worldgraph batch`` shows its progress: a bar on a terminal (items, ok / blocked /
failed, items per minute, time left), a line per item in a log, JSON lines for machines."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any


class Rate:
    """Throughput and time left, from the items finished in this run."""

    def __init__(self, total: int, done: int) -> None:
        self.total, self.done, self.start_done = total, done, done
        self.start = time.perf_counter()

    def tick(self) -> None:
        self.done += 1

    @property
    def per_minute(self) -> float:
        elapsed = time.perf_counter() - self.start
        return 60 * (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> str:
        rate = self.per_minute
        if rate <= 0:
            return "--:--"
        seconds = int(60 * (self.total - self.done) / rate)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class BatchView:
    """Receives ``start``, one ``item`` per finished attempt, and ``finish``."""

    def start(self, total: int, done: int, backend: str, workers: int) -> None: ...

    def item(self, event: dict[str, Any]) -> None: ...

    def finish(self, summary: dict[str, Any]) -> None: ...


class JsonView(BatchView):
    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def start(self, total: int, done: int, backend: str, workers: int) -> None:
        self._write({"event": "batch_started", "items": total, "finished_before": done, "backend": backend,
                     "workers": workers})

    def item(self, event: dict[str, Any]) -> None:
        self._write({"event": "item"} | event)

    def finish(self, summary: dict[str, Any]) -> None:
        self._write({"event": "summary"} | summary)

    def _write(self, obj: dict[str, Any]) -> None:
        self.stream.write(json.dumps(obj, default=str) + "\n")
        self.stream.flush()


class LinesView(BatchView):
    """A line per finished item on stderr: for logs and pipes."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.rate = Rate(0, 0)

    def start(self, total: int, done: int, backend: str, workers: int) -> None:
        self.rate = Rate(total, done)
        print(f"batch: {total} items, {done} already finished; {workers} {backend} workers",
              file=self.stream, flush=True)

    def item(self, event: dict[str, Any]) -> None:
        if event["final"]:
            self.rate.tick()
        r = self.rate
        print(f"[{r.done}/{r.total}] {describe(event)}  ({r.per_minute:.1f} items/min, ETA {r.eta})",
              file=self.stream, flush=True)

    def finish(self, summary: dict[str, Any]) -> None:
        print(summary_line(summary), file=self.stream, flush=True)


class BarView(LinesView):
    """A rich progress bar, with a line printed above it for each item that did not succeed."""

    def start(self, total: int, done: int, backend: str, workers: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.rate = Rate(total, done)
        self.counts = {"ok": 0, "blocked": 0, "failed": 0}
        self.bar = Progress(TextColumn(f"batch ({workers} {backend} workers)"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[counts]}  {task.fields[rate]}  ETA {task.fields[eta]}"),
                            console=Console(stderr=True))
        self.task = self.bar.add_task("batch", total=total, completed=done, counts="", rate="", eta="--:--")
        self.bar.start()

    def item(self, event: dict[str, Any]) -> None:
        if event["final"]:
            self.rate.tick()
            self.counts[event["status"] if event["status"] in self.counts else "failed"] += 1
        if event["status"] != "ok":
            self.bar.console.print(describe(event))
        counts = "  ".join(f"{k} {v}" for k, v in self.counts.items())
        self.bar.update(self.task, completed=self.rate.done, counts=counts,
                        rate=f"{self.rate.per_minute:.1f} items/min", eta=self.rate.eta)

    def finish(self, summary: dict[str, Any]) -> None:
        self.bar.stop()
        print(summary_line(summary), file=sys.stderr, flush=True)


def describe(event: dict[str, Any]) -> str:
    status, name = event["status"], event["id"]
    if status == "ok":
        return f"✓ {name} ({event.get('seconds', 0):.1f} s)"
    if status == "blocked":
        return f"■ {name} blocked: {'; '.join(event.get('blocked', {}).values())}"
    if status == "stopped":
        return f"■ {name} not made: {event.get('error')}"
    then = "will retry" if not event["final"] else f"see {event.get('log')}"
    where = f" in {event['node']}" if event.get("node") else ""
    return f"✗ {name} {status}{where}: {event.get('error')} ({then})"


def summary_line(s: dict[str, Any]) -> str:
    stopped = f"; stopped: {s['stopped']}" if s.get("stopped") else ""
    return (f"{s['status']}: {s['ok']} ok, {s['blocked']} blocked, {s['failed']} failed, {s['not_run']} not run "
            f"of {s['items']} ({s['finished_before']} finished before) in {s['seconds']:.1f} s, "
            f"{s['items_per_minute']:.1f} items/min; {s['out']}{stopped}")


def view_for(json_lines: bool) -> BatchView:
    if json_lines:
        return JsonView()
    return BarView() if sys.stderr.isatty() else LinesView()
