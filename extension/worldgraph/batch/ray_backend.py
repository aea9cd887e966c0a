"""The Ray backend (extra ``distributed``): one actor per worker, each holding its models.

Each actor reserves the spec's ``[resources]`` (cpus, gpus) and runs one item at a time
with the same code as a local worker, so a deterministic graph gives the same bytes. An
actor that dies mid-item (a killed process, a lost node) is restarted by Ray; its item
comes back as ``lost`` and the runner sends it again. Every node of the cluster must see
the output folder at the same path (a shared file system) and have worldgraph installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from worldgraph.nodes import WorldgraphError

from .items import Item, Plan

RESTART_SECONDS = 300.0  # how long a dead actor may take to come back (model loading included)


class ItemWorker:
    """The actor: ``init_worker`` once, then ``run_item`` per call."""

    def __init__(self, plan: Plan, clips: str, threads: int) -> None:
        from .worker import init_worker

        init_worker(threads, die_with_parent=False)
        self.plan, self.clips = plan, Path(clips)

    def run(self, item: Item, attempt: int) -> dict[str, Any]:
        from .worker import run_item

        return run_item(self.plan, item, self.clips, attempt)

    def pid(self) -> int:
        return os.getpid()


def connect(address: str) -> Any:
    """Import Ray and join the cluster at ``address`` ("auto": the one on this machine;
    "local": start one here). A clear error when Ray is not installed."""
    try:
        import ray
    except ImportError:
        raise WorldgraphError('--ray needs Ray: pip install "worldgraph[distributed]"') from None
    if not ray.is_initialized():
        try:
            if address == "local":
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise WorldgraphError(f"--ray {address}: cannot join the Ray cluster: {e}") from None
    return ray


class RayBackend:
    name = "ray"

    def __init__(self, plan: Plan, clips: Path, workers: int | None, threads: int, cpus: float, gpus: float,
                 address: str) -> None:
        ray = self.ray = connect(address)
        self.slots = _capacity(ray.cluster_resources(), workers, cpus, gpus)
        actor = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=-1, max_task_retries=0)(ItemWorker)
        self.actors = [actor.remote(plan, str(clips.resolve()), threads) for _ in range(self.slots)]
        self._idle = list(self.actors)
        self._running: dict[Any, tuple[Any, Item, int]] = {}  # object ref -> (actor, item, attempt)

    def submit(self, item: Item, attempt: int) -> None:
        actor = self._idle.pop()
        self._running[actor.run.remote(item, attempt)] = (actor, item, attempt)

    def next_done(self) -> tuple[Item, int, dict[str, Any]]:
        from ray.exceptions import RayActorError, WorkerCrashedError

        ready, _ = self.ray.wait(list(self._running), num_returns=1)
        actor, item, attempt = self._running.pop(ready[0])
        try:
            result = self.ray.get(ready[0])
        except (RayActorError, WorkerCrashedError) as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            result = {"status": "lost", "error": f"the Ray worker died while making the item ({reason})"}
            self._await_restart(actor)
        self._idle.append(actor)
        return item, attempt, result

    def _await_restart(self, actor: Any, seconds: float = RESTART_SECONDS) -> None:
        """Block until Ray has restarted a dead actor (calls sent while it restarts fail at
        once, which would spend the item's resends in a few seconds on a busy machine)."""
        import time

        from ray.exceptions import GetTimeoutError, RayActorError

        deadline = time.monotonic() + seconds
        while True:
            try:
                self.ray.get(actor.pid.remote(), timeout=max(deadline - time.monotonic(), 0.1))
                return
            except (RayActorError, GetTimeoutError):
                if time.monotonic() > deadline:
                    raise WorldgraphError(f"a Ray worker died and did not come back within {seconds:g} s") from None
                time.sleep(0.5)

    def worker_pids(self) -> list[int]:
        """The actors' process ids (for tests and diagnostics)."""
        return list(self.ray.get([a.pid.remote() for a in self.actors]))

    def close(self, now: bool = False) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors, self._idle = [], []


def _capacity(resources: dict[str, float], workers: int | None, cpus: float, gpus: float) -> int:
    """Actors the cluster can hold at once with ``cpus`` / ``gpus`` each: more would wait for
    resources that the others never give back."""
    fits = int(resources.get("CPU", 0) // cpus)
    if gpus > 0:
        fits = min(fits, int(resources.get("GPU", 0) // gpus))
    if fits < 1:
        raise WorldgraphError(f"the Ray cluster ({resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs) "
                              f"cannot hold one item's resources (cpus {cpus:g}, gpus {gpus:g})")
    if workers and workers > fits:
        print(f"worldgraph: --workers {workers}: the Ray cluster holds {fits} workers at once; using {fits}",
              file=sys.stderr)
    return min(workers or fits, fits)
