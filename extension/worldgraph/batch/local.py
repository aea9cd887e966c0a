"""The local backend: a pool of long-lived worker processes, one item each at a time.

Workers are spawned, not forked: a forked child would share the parent's EGL context and
USD state. A worker that dies (killed, out of memory, a crash in native code) breaks the
pool: the items it held come back as ``lost`` and the next submit starts a fresh pool.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .items import Item, Plan
from .worker import init_worker, run_item


class LocalBackend:
    name = "local"

    def __init__(self, plan: Plan, clips: Path, workers: int, threads: int) -> None:
        self.plan, self.clips, self.slots, self.threads = plan, clips, workers, threads
        self._pool: ProcessPoolExecutor | None = None
        self._running: dict[Future[dict[str, Any]], tuple[Item, int]] = {}

    def submit(self, item: Item, attempt: int) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.slots, mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker, initargs=(self.threads, True),
            )
        future = self._pool.submit(run_item, self.plan, item, self.clips, attempt)
        self._running[future] = (item, attempt)

    def next_done(self) -> tuple[Item, int, dict[str, Any]]:
        """Wait for the next finished item: (item, attempt, result)."""
        future = next(iter(wait(self._running, return_when=FIRST_COMPLETED).done))
        item, attempt = self._running.pop(future)
        try:
            return item, attempt, future.result()
        except BrokenProcessPool:
            self._drop_pool()
            return item, attempt, {"status": "lost", "error": "the worker process died while making the item"}

    def worker_pids(self) -> list[int]:
        """The pool's process ids (for tests and diagnostics); empty before the first submit."""
        return sorted(getattr(self._pool, "_processes", None) or {})

    def close(self, now: bool = False) -> None:
        if self._pool is not None:
            if now:
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def default_workers(cpus_per_item: float) -> int:
    return max(1, int((os.cpu_count() or 1) // max(cpus_per_item, 1)))
