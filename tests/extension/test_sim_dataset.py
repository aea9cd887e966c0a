"""The sim_dataset sample graph end to end: through the CLI, killed and resumed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from worldgraph.cli import main
from worldgraph.engines.sim.dataset import read_manifest, verify

from ..conftest import SAMPLES

GRAPH = SAMPLES / "graphs" / "sim_dataset.usda"
EXE = Path(sys.executable).with_name("worldgraph")
SMALL = ["--set", "render.width=32", "--set", "render.height=32", "--set", "simulate.frames=9"]


def test_sample_graph_makes_a_checked_dataset(capsys, tmp_path):
    code = main(["run", str(GRAPH), "--out", str(tmp_path), "--set", "randomize.count=4", *SMALL])
    out, err = capsys.readouterr()
    assert code == 0, err
    root = tmp_path / "dataset"
    records = read_manifest(root)
    assert [r["id"] for r in records] == ["000000", "000001", "000002", "000003"]
    assert verify(root) == []
    assert all(r["caption"] and r["frames"] == 9 for r in records)
    for name in ("dataset_sheet.png", "clip0_depth.png", "clip0_segmentation.mp4"):
        assert (tmp_path / name).stat().st_size > 0
    assert main(["verify", str(root)]) == 0
    assert "ok: " in capsys.readouterr().out
    (root / "clips" / "000002" / "prompt.txt").write_text("edited")
    assert main(["verify", str(root), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["clips"] == 4 and report["problems"] == [
        f"{root}/clips/000002/prompt.txt: checksum differs from the manifest (line 3)"]
    assert main(["verify", str(tmp_path)]) == 2


def test_same_seed_same_dataset_other_seed_other_dataset(tmp_path):
    def manifest(seed: int, where: str) -> bytes:
        args = ["run", str(GRAPH), "--out", str(tmp_path / where), "--seed", str(seed),
                "--set", "randomize.count=2", *SMALL]
        assert main(args) == 0
        return (tmp_path / where / "dataset" / "manifest.jsonl").read_bytes()

    assert manifest(5, "a") == manifest(5, "b") != manifest(6, "c")
    depth = [np.load(tmp_path / w / "dataset" / "clips" / "000001" / "depth.npy") for w in "ab"]
    assert depth[0].tobytes() == depth[1].tobytes()


def test_killed_run_resumes_without_half_clips(tmp_path):
    args = [str(EXE), "run", str(GRAPH), "--out", str(tmp_path), "--set", "randomize.count=10",
            "--set", "write.workers=1", *SMALL]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    manifest = tmp_path / "dataset" / "manifest.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = read_manifest(tmp_path / "dataset")
    assert 3 <= len(before) < 10, "the run should have been killed part way"

    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = read_manifest(tmp_path / "dataset")
    assert [r["id"] for r in records] == [f"{i:06d}" for i in range(10)]
    assert verify(tmp_path / "dataset") == []
    clips = sorted(p.name for p in (tmp_path / "dataset" / "clips").iterdir())
    assert clips == [r["id"] for r in records]  # no temporary or unrecorded folders
    kept = {r["id"]: r for r in before}
    assert all(json.dumps(records[int(i)]) == json.dumps(r) for i, r in kept.items())


def test_read_only_output_folder_fails_with_a_clear_message(capsys):
    code = main(["run", str(GRAPH), "--out", "/sys/worldgraph-test", "--set", "randomize.count=1", *SMALL])
    _, err = capsys.readouterr()
    assert code == 1 and "cannot create the folder /sys/worldgraph-test" in err
    assert "Traceback" not in err


def test_a_bad_scene_names_its_prim_through_the_cli(capsys, tmp_path):
    scene = tmp_path / "bad.usda"
    scene.write_text('#usda 1.0\n(\n    upAxis = "Z"\n    metersPerUnit = 1\n)\n'
                     'def PhysicsScene "physics"\n{\n}\n'
                     'def Sphere "ghost" (\n    prepend apiSchemas = ["PhysicsRigidBodyAPI"]\n)\n{\n}\n')
    graph = tmp_path / "g.usda"
    from worldgraph.nodes import Graph, save_graph

    g = Graph("/G", base_dir=tmp_path)
    g.add_node("load", "worldgraph.scene.LoadScene", values={"path": "bad.usda"})
    save_graph(g, graph)
    code = main(["run", str(graph), "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 1 and "rigid body /ghost has no collider" in err and str(scene) in err
