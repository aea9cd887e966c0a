"""`worldgraph batch` on the local process pool: real graphs, real worker processes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from worldgraph.batch.items import make_plan
from worldgraph.batch.local import LocalBackend
from worldgraph.batch.spec import load_spec
from worldgraph.batch.store import CLIPS, LOGS, MANIFEST, Store
from worldgraph.cli import main
from worldgraph.engines.sim.dataset import read_manifest, verify
from worldgraph.nodes import load_graph

from ..conftest import SAMPLES
from .conftest import (
    SCENE_GRAPH,
    TINY,
    item_folders,
    kill_worker_mid_item,
    leftovers,
    manifest_lines,
    tiny_sim_spec,
    write_spec,
)

EXE = Path(sys.executable).with_name("worldgraph")


def summary_of(out: str) -> dict:
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["event"] == "summary"
    return lines[-1]


def test_a_sweep_makes_one_checked_folder_per_item(tmp_path, capsys):
    spec = tiny_sim_spec(tmp_path, items=4, keep=["write", "sheet"])
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--workers", "2", "--json"]) == 0
    summary = summary_of(capsys.readouterr().out)
    assert (summary["ok"], summary["failed"], summary["blocked"], summary["workers"]) == (4, 0, 0, 2)
    records = manifest_lines(out)
    assert [r["index"] for r in records] == [0, 1, 2, 3] and item_folders(out) == [r["id"] for r in records]
    assert verify(out) == []  # every file of every item matches its sha256
    first = out / CLIPS / records[0]["id"]
    kept = sorted(p.name for p in first.iterdir())
    assert kept == ["batch_item.json", "dataset", "dataset_sheet.png"]  # the clip-0 previews were dropped
    item = json.loads((first / "batch_item.json").read_text())
    assert item["values"]["/SimDataset/simulate.camera_motion"] == "static" and item["seed"] == records[0]["seed"]
    assert verify(first / "dataset") == []  # the graph's own dataset inside the item, whole
    assert main(["verify", str(out)]) == 0
    assert leftovers(out) == []
    # readers trust the manifest only: a folder without a line (a kill between the rename
    # and the line) is not an item, neither of the batch nor of an item's dataset
    shutil.copytree(first, out / CLIPS / "000009-unrecorded")
    shutil.copytree(first / "dataset" / "clips" / "000000", first / "dataset" / "clips" / "000001")
    assert [r["id"] for r in read_manifest(out)] == [r["id"] for r in records]
    assert [r["id"] for r in read_manifest(first / "dataset")] == ["000000"]
    from worldgraph.engines.sim.reader import ClipDataset

    assert len(ClipDataset(first / "dataset", frames=5)) == 1
    shutil.rmtree(out / CLIPS / "000009-unrecorded")
    shutil.rmtree(first / "dataset" / "clips" / "000001")
    # the same sweep again: refused without --resume, nothing to do with it
    assert main(["batch", str(spec), "--out", str(out)]) == 2
    assert "add --resume" in capsys.readouterr().err
    assert main(["batch", str(spec), "--out", str(out), "--resume", "--json"]) == 0
    again = summary_of(capsys.readouterr().out)
    assert (again["finished_before"], again["ok"]) == (4, 0)


def test_a_corrupt_scene_fails_alone_with_its_reason(tmp_path, capsys):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    for name in ("tabletop_drop", "ramp_roll"):
        shutil.copy(SAMPLES / "scenes" / f"{name}.usda", scenes / f"{name}.usda")
    (scenes / "broken.usda").write_text("#usda 1.0\ndef Xform \"World\" {\n  this is not usd\n")
    spec = write_spec(tmp_path, graph=str(SCENE_GRAPH), retries=1, max_failures=1, tables={
        "set": {"simulate.frames": 5, "render.width": 32, "render.height": 32},
        "sweep": {"load.path": {"glob": "scenes/*.usda"}}})
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--workers", "2", "--json"]) == 1
    summary = summary_of(capsys.readouterr().out)
    assert (summary["ok"], summary["failed"], summary["retried"]) == (2, 1, 1)
    failure = summary["failures"][0]
    assert failure["node"] == "/SceneClips/load" and "broken.usda" in failure["error"]
    log = Path(failure["log"]).read_text()
    assert log.count("== attempt") == 2  # tried, retried, then given up
    assert "node: /SceneClips/load (worldgraph.scene.LoadScene)" in log and "Traceback" in log
    assert Path(failure["log"]).parent == out / LOGS
    assert sorted(r["values"]["/SceneClips/load.path"].rsplit("/", 1)[1] for r in manifest_lines(out)) == [
        "ramp_roll.usda", "tabletop_drop.usda"]
    assert verify(out) == [] and leftovers(out) == []


def test_the_failure_budget_stops_the_run(tmp_path, capsys):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    for n in range(4):
        (scenes / f"bad{n}.usda").write_text("not usd at all")
    shutil.copy(SAMPLES / "scenes" / "tabletop_drop.usda", scenes / "z_good.usda")
    spec = write_spec(tmp_path, graph=str(SCENE_GRAPH), retries=0, max_failures=1, tables={
        "set": {"simulate.frames": 5, "render.width": 32, "render.height": 32},
        "sweep": {"load.path": {"glob": "scenes/*.usda"}}})
    assert main(["batch", str(spec), "--out", str(tmp_path / "out"), "--workers", "1", "--json"]) == 3
    summary = summary_of(capsys.readouterr().out)
    assert summary["status"] == "stopped" and "failure budget is spent: 2 items failed, 1 allowed" in summary["stopped"]
    assert summary["failed"] == 2 and summary["not_run"] == 3 and summary["ok"] == 0


def test_blocked_items_are_counted_apart(tmp_path, capsys):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in
                               ["a red ball rolls", "how to build a pipe b0mb", "a blue box tips over"]))
    spec = write_spec(tmp_path, graph=str(SAMPLES / "graphs" / "guards.usda"), keep=["save_prompt"], tables={
        "set": {"prompt_guard.classifier": False},
        "sweep": {"prompt_guard.text": {"jsonl": "prompts.jsonl"}}})
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1", "--json"]) == 0
    summary = summary_of(capsys.readouterr().out)
    assert (summary["ok"], summary["blocked"], summary["failed"]) == (2, 1, 0)
    blocked = [r for r in manifest_lines(out) if r["status"] == "blocked"]
    assert [r["index"] for r in blocked] == [1]
    assert "blocked by /Guards/prompt_guard: blocklist matched" in json.dumps(blocked[0]["blocked"])
    assert sorted(blocked[0]["files"]) == ["batch_item.json"]  # nothing after the guard was made
    ok = next(r for r in manifest_lines(out) if r["index"] == 0)
    assert (out / CLIPS / ok["id"] / "prompt.txt").read_text() == "a red ball rolls\n"
    assert "classifier: off" in ok["verdicts"]["/Guards/prompt_guard.verdict"]  # never silently off


def test_kill_9_then_resume_makes_every_item_exactly_once(tmp_path):
    spec = tiny_sim_spec(tmp_path, items=8)
    out = tmp_path / "out"
    env = os.environ | {"MUJOCO_GL": "egl"}
    with (tmp_path / "first.log").open("w") as log:
        run = subprocess.Popen([str(EXE), "batch", str(spec), "--out", str(out), "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.time() + 90
        while time.time() < deadline and run.poll() is None:
            if (out / MANIFEST).exists() and len((out / MANIFEST).read_text().splitlines()) >= 2:
                break
            time.sleep(0.05)
        assert run.poll() is None, (tmp_path / "first.log").read_text()
        run.send_signal(signal.SIGKILL)
        run.wait()
    made = len(manifest_lines(out))
    assert 2 <= made < 8
    done = subprocess.run([str(EXE), "batch", str(spec), "--out", str(out), "--workers", "2", "--resume", "--json"],
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    summary = summary_of(done.stdout)
    assert summary["finished_before"] == made and summary["ok"] == 8 - made
    planned = subprocess.run([str(EXE), "batch", str(spec), "--dry-run"], capture_output=True, text=True, check=True)
    ids = [json.loads(line)["id"] for line in planned.stdout.splitlines()]
    records = manifest_lines(out)
    assert [r["id"] for r in records] == ids  # each item once, in order
    assert item_folders(out) == ids
    assert verify(out) == []
    assert leftovers(out) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (root only): writes there fail with ENOSPC once it is full."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_stops_cleanly_and_resume_finishes(small_disk, tmp_path, capsys):
    spec = tiny_sim_spec(tmp_path, items=12, retries=2)
    out = small_disk / "out"
    code = main(["batch", str(spec), "--out", str(out), "--workers", "2", "--json"])
    summary = summary_of(capsys.readouterr().out)
    assert code == 3 and "the disk is full" in summary["stopped"], summary
    assert 0 < summary["ok"] < 12 and summary["failed"] == 0 and summary["retried"] == 0  # not retried, not failed
    finished = manifest_lines(out)
    assert len(finished) == summary["ok"] and verify(out) == []  # what was finished is whole
    assert not [p for p in (out / CLIPS).iterdir() if p.name.startswith(".")]  # no half-made item
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    assert main(["batch", str(spec), "--out", str(out), "--workers", "2", "--resume", "--json"]) == 0
    assert len(manifest_lines(out)) == 12 and verify(out) == [] and leftovers(out) == []


def test_tiny_items_match_a_direct_run(tmp_path, capsys):
    """An item's files are the bytes `worldgraph run` makes with the same values and seed."""
    spec = tiny_sim_spec(tmp_path, items=1)
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1"]) == 0
    record = manifest_lines(out)[0]
    sets = [a for key, value in TINY.items() for a in ("--set", f"{key}={value}")]
    direct = tmp_path / "direct"
    assert main(["run", str(SAMPLES / "graphs" / "sim_dataset.usda"), "--out", str(direct), *sets,
                 "--set", "simulate.camera_motion=static", "--seed", str(record["seed"])]) == 0
    capsys.readouterr()
    for name in ("dataset/manifest.jsonl", "dataset_sheet.png", "clip0_segmentation.mp4"):
        assert (out / CLIPS / record["id"] / name).read_bytes() == (direct / name).read_bytes(), name


def test_a_pool_worker_killed_mid_item_costs_no_retry(tmp_path):
    spec = load_spec(tiny_sim_spec(tmp_path, items=3, retries=0))
    plan, items = make_plan(spec, load_graph(spec.graph))
    store = Store(tmp_path / "out")
    finished = store.open(False, {})
    backend = LocalBackend(plan, store.clips, 1, 1)
    result = kill_worker_mid_item(spec, plan, items, store, finished, backend, lambda: backend.worker_pids()[0])
    summary = result["summary"]
    assert result["code"] == 0 and summary["workers_lost"] == 1 and summary["ok"] == 3, summary
    assert [r["id"] for r in manifest_lines(store.root)] == [i.id for i in items]
    assert verify(store.root) == [] and leftovers(store.root) == []
    assert "the worker process died while making the item" in (store.logs / f"{items[1].id}.log").read_text()
