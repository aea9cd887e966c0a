"""Tiny sweeps over the sample graphs: a few frames at 32x32, so an item takes about a second."""

import json
from pathlib import Path

import pytest

from worldgraph.batch.store import CLIPS, MANIFEST

from ..conftest import SAMPLES

SIM_GRAPH = SAMPLES / "graphs" / "sim_dataset.usda"
SCENE_GRAPH = SAMPLES / "sweeps" / "scene_clips.usda"
TINY = {"write.workers": 1, "randomize.count": 1, "simulate.frames": 5, "render.width": 32, "render.height": 32}


def toml_value(value):
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def write_spec(folder: Path, name: str = "sweep.toml", *, tables: dict | None = None, **top) -> Path:
    """A spec file from plain values: ``top`` keys, then ``tables`` ({"set": {...}, "sweep": {...}})."""
    lines = [f"{key} = {toml_value(value)}" for key, value in top.items()]
    for table, entries in (tables or {}).items():
        lines.append(f"[{table}]")
        lines += [f"{json.dumps(k) if '.' in k else k} = {toml_value(v)}" for k, v in entries.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def tiny_sim_spec(folder: Path, items: int = 4, **top) -> Path:
    """The sim-only sample graph over ``items`` seeds and two camera motions."""
    top.setdefault("graph", str(SIM_GRAPH))
    return write_spec(folder, items=items, **top, tables={
        "set": TINY, "sweep": {"simulate.camera_motion": ["static", "orbit"]}})


def manifest_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]


def leftovers(out: Path) -> list[Path]:
    """Temporary files or folders anywhere in a batch output (the lock file is not one)."""
    return [p for p in out.rglob("*") if (p.name.startswith(".") and p.name != ".lock") or ".tmp" in p.name]


def item_folders(out: Path) -> list[str]:
    return sorted(p.name for p in (out / CLIPS).iterdir())


@pytest.fixture
def sim_spec(tmp_path) -> Path:
    return tiny_sim_spec(tmp_path)


def kill_worker_mid_item(spec, plan, items, store, finished, backend, worker_pid) -> dict:
    """Run the batch on a thread, SIGKILL the process ``worker_pid()`` names while the second
    item is being made (its temporary folder is there), and return the run's exit code and
    summary. (A pool's workers exist once the run starts; a Ray actor's pid must be asked
    before, as a busy actor answers only after its item.)"""
    import os
    import signal
    import threading
    import time

    from worldgraph.batch.progress import BatchView
    from worldgraph.batch.runner import run_batch

    result: dict = {}

    def run() -> None:
        result["code"], result["summary"] = run_batch(spec, plan, items, store, backend, finished, BatchView())

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(f".{items[1].id}.") for p in store.clips.iterdir()):
        time.sleep(0.01)
    os.kill(worker_pid(), signal.SIGKILL)
    runner.join(180)
    assert not runner.is_alive()
    return result
