"""Runs a plan's items on a backend: retries, the failure budget, a full disk, the summary.

A failed item is logged and sent again up to the spec's ``retries``; once more items have
failed (for good) than the budget allows, nothing new starts, the items under way finish,
and the run stops. An item whose worker died is sent again without using a retry, up to
``LOSSES`` times (a worker can die of something else: a kill, the machine's memory). A
full disk stops the run at once; what is finished stays valid and ``--resume`` goes on.
"""

from __future__ import annotations

import errno
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .items import Item, Plan
from .progress import BatchView
from .spec import SweepSpec
from .store import Store

LOSSES = 3  # worker deaths an item may see before it counts as failed
EXIT_OK, EXIT_FAILED, EXIT_STOPPED, EXIT_CANCELLED = 0, 1, 3, 130


class Backend(Protocol):
    name: str
    slots: int

    def submit(self, item: Item, attempt: int) -> None: ...

    def next_done(self) -> tuple[Item, int, dict[str, Any]]: ...

    def close(self, now: bool = False) -> None: ...


@dataclass
class Tally:
    ok: int = 0
    blocked: int = 0
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last failure
    retried: int = 0
    lost: int = 0
    stopped: str | None = None


def run_batch(spec: SweepSpec, plan: Plan, items: list[Item], store: Store, backend: Backend,
              finished: dict[str, dict[str, Any]], view: BatchView) -> tuple[int, dict[str, Any]]:
    """Run the items not in ``finished``; (exit code, summary)."""
    todo = deque(i for i in items if i.id not in finished)
    before = len(items) - len(todo)
    budget = spec.budget(len(items))
    tally, attempts, losses = Tally(), Counter[str](), Counter[str]()
    running = 0
    start = time.perf_counter()
    view.start(len(items), before, backend.name, backend.slots)
    at_once = True  # stop the workers now, unless the loop ends normally
    try:
        while running or (todo and not tally.stopped):
            while todo and running < backend.slots and not tally.stopped:
                item = todo.popleft()
                attempts[item.id] += 1
                backend.submit(item, attempts[item.id])
                running += 1
            item, attempt, result = backend.next_done()
            running -= 1
            status = result["status"]
            event: dict[str, Any] = {"id": item.id, "index": item.index, "attempt": attempt, "final": True,
                                     "elapsed": round(time.perf_counter() - start, 3)}
            if status in ("ok", "blocked"):
                line = item.to_json() | {"status": status, "files": result["files"]}  # no times: same sweep, same bytes
                if result.get("blocked"):
                    line["blocked"] = result["blocked"]
                if result.get("verdicts"):  # which guards ran, with which settings
                    line["verdicts"] = result["verdicts"]
                try:
                    store.add(line)
                except OSError as e:
                    if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                        raise
                    tally.stopped = f"the disk is full ({e.strerror}) writing {store.root}"
                    todo.appendleft(item)  # its folder has no line: --resume makes it again
                    view.item(event | {"status": "stopped", "final": False, "error": tally.stopped, "log": None})
                    continue
                tally.ok += status == "ok"
                tally.blocked += status == "blocked"
                view.item(event | {"status": status, "seconds": result.get("seconds", 0.0),
                                   "blocked": result.get("blocked", {})})
                continue
            log = _log(store, item, attempt, result)
            result = {k: v for k, v in result.items() if k != "traceback"}  # in the log, not the event
            if result.get("disk_full"):
                tally.stopped = f"the disk is full: {result['error']}"
                todo.appendleft(item)  # not the item's fault: --resume makes it
                view.item(event | result | {"status": "stopped", "final": False, "log": log})
                continue
            if status == "lost":
                store.discard(item.id)
                tally.lost += 1
                losses[item.id] += 1
                if losses[item.id] <= LOSSES:
                    attempts[item.id] -= 1  # not the item's fault: a free try
                    todo.appendleft(item)
                    view.item(event | result | {"final": False, "log": log})
                    continue
            if attempt <= spec.retries:
                tally.retried += 1
                todo.appendleft(item)
                view.item(event | result | {"final": False, "log": log})
                continue
            tally.failed[item.id] = {"id": item.id, "index": item.index, "node": result.get("node"),
                                     "error": result["error"], "attempts": attempt, "log": str(log)}
            view.item(event | result | {"status": "failed", "log": log})
            if len(tally.failed) > budget and not tally.stopped:
                tally.stopped = f"the failure budget is spent: {len(tally.failed)} items failed, {budget} allowed"
        at_once = False
    except KeyboardInterrupt:
        tally.stopped = "cancelled"
    finally:
        backend.close(now=at_once)
        store.close()
    seconds = time.perf_counter() - start
    made = tally.ok + tally.blocked
    code = (EXIT_CANCELLED if tally.stopped == "cancelled" else EXIT_STOPPED if tally.stopped
            else EXIT_FAILED if tally.failed else EXIT_OK)
    summary = {
        "status": {EXIT_OK: "ok", EXIT_FAILED: "failed", EXIT_STOPPED: "stopped", EXIT_CANCELLED: "cancelled"}[code],
        "out": str(store.root), "items": len(items), "finished_before": before, "ok": tally.ok,
        "blocked": tally.blocked, "failed": len(tally.failed),
        "not_run": len(items) - before - made - len(tally.failed), "retried": tally.retried,
        "workers_lost": tally.lost, "seconds": round(seconds, 3),
        "items_per_minute": round(60 * made / seconds, 2) if seconds > 0 else 0.0,
        "backend": backend.name, "workers": backend.slots, "stopped": tally.stopped,
        "failures": sorted(tally.failed.values(), key=lambda f: f["index"]),
    }
    view.finish(summary)
    return code, summary


def _log(store: Store, item: Item, attempt: int, result: dict[str, Any]) -> Path | None:
    try:
        return store.log_failure(item.id, attempt, result)
    except OSError:  # a full disk cannot take the log either; the summary still says why
        return None
