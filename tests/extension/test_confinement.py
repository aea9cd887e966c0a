"""Outputs never escape --out: every writer (SaveVideo's PNG frames, WriteDataset, Curate,
curate, batch) through the CLI, with real symbolic links at each depth, dangling links,
links swapped in between two runs, and two dataset runs on one folder at once.
``outside`` is a folder beside --out that must keep exactly what it had."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from worldgraph.cli import main
from worldgraph.engines.sim.dataset import read_manifest, verify
from worldgraph.nodes import Graph, save_graph

from ..conftest import SAMPLES

EDGES = SAMPLES / "graphs" / "edges.usda"
SIM = SAMPLES / "graphs" / "sim_dataset.usda"
VIDEO = SAMPLES / "videos" / "bouncing_shapes.mp4"
EXE = Path(sys.executable).with_name("worldgraph")
SMALL = ["--set", "render.width=32", "--set", "render.height=32", "--set", "simulate.frames=9",
         "--set", "write.workers=1"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def outside(tmp_path):
    victim = tmp_path / "outside"
    (victim / "stray").mkdir(parents=True)  # an "unrecorded clip" a clean-up would delete
    (victim / "stray" / "precious.txt").write_text("mine")
    (victim / "precious.txt").write_text("mine")
    return victim


def untouched(outside) -> bool:
    return sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*")) == [
        "precious.txt", "stray", "stray/precious.txt"]


def link(path: Path, target: Path) -> None:
    """Replace whatever is at ``path`` with a link to ``target`` (a swap between runs)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


# ------------------------------------------------------------------ SaveVideo, PNG frames


def test_re_saving_png_frames_spares_a_linked_folder(capsys, tmp_path, outside):
    out = tmp_path / "o"
    assert run_cli(capsys, "run", EDGES, "--out", out, "--set", "save_edges.path=frames")[0] == 0
    link(out / "frames" / "evil", outside)
    link(out / "frames" / "sub" / "evil", outside)
    link(out / "frames" / "gone", tmp_path / "nowhere")
    code, _, err = run_cli(capsys, "run", EDGES, "--out", out, "--set", "save_edges.path=frames")
    assert code == 0, err
    assert untouched(outside) and not (tmp_path / "nowhere").exists()
    assert all(p.name.startswith("frame_") for p in (out / "frames").iterdir())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no .frames.old left behind


@pytest.mark.parametrize(("where", "linked"), [("frames", "frames"), ("a/frames", "a"), ("a/b/frames", "a/b")])
@pytest.mark.parametrize("dangling", [False, True], ids=["link", "dangling"])
def test_a_frames_path_through_a_link_out_is_refused_at_every_depth(capsys, tmp_path, outside, where, linked,
                                                                     dangling):
    out = tmp_path / "o"
    out.mkdir()
    linked = out / linked
    target = tmp_path / "nowhere" if dangling else outside
    link(linked, target)
    code, _, err = run_cli(capsys, "run", EDGES, "--out", out, "--set", f"save_edges.path={where}")
    assert code == 1
    assert f"output path '{where}': {linked} is a link to {target}" in err and "outside the output folder" in err
    assert untouched(outside) and not (tmp_path / "nowhere").exists()


# ------------------------------------------------------------------ WriteDataset


def run_dataset(capsys, out, count=2):
    return run_cli(capsys, "run", SIM, "--out", out, "--set", f"randomize.count={count}", *SMALL)


@pytest.mark.parametrize("when", ["before", "between"])
@pytest.mark.parametrize("dangling", [False, True], ids=["link", "dangling"])
def test_write_dataset_refuses_a_clips_link_out(capsys, tmp_path, outside, when, dangling):
    out = tmp_path / "o"
    clips = out / "dataset" / "clips"
    if when == "between":
        assert run_dataset(capsys, out)[0] == 0
    target = tmp_path / "nowhere" if dangling else outside
    link(clips, target)
    code, _, err = run_dataset(capsys, out, count=3)
    assert code == 1
    assert f"{clips} is a link to {target}" in err and "outside the output folder" in err
    assert untouched(outside) and not (tmp_path / "nowhere").exists()
    assert clips.is_symlink()  # left for the user to look at


@pytest.mark.parametrize("fixed", ["dataset", "dataset/manifest.jsonl"])
def test_write_dataset_refuses_other_fixed_names_linked_out(capsys, tmp_path, outside, fixed):
    out = tmp_path / "o"
    assert run_dataset(capsys, out)[0] == 0
    link(out / fixed, outside / "precious.txt" if fixed.endswith(".jsonl") else outside)
    code, _, err = run_dataset(capsys, out, count=3)
    assert code == 1 and f"{out / fixed} is a link to" in err
    assert untouched(outside) and (outside / "precious.txt").read_text() == "mine"


def test_write_dataset_inside_clips(capsys, tmp_path, outside):
    """One level deeper: a finished clip swapped for a link out is refused; an unrecorded
    entry that is a link is removed as a link, its target spared."""
    out = tmp_path / "o"
    clips = out / "dataset" / "clips"
    assert run_dataset(capsys, out)[0] == 0
    link(clips / "000007", outside)
    link(clips / "000008", tmp_path / "nowhere")
    code, _, err = run_dataset(capsys, out, count=3)
    assert code == 0, err
    assert sorted(p.name for p in clips.iterdir()) == ["000000", "000001", "000002"]
    assert verify(out / "dataset") == [] and untouched(outside)
    link(clips / "000001", outside)
    code, _, err = run_dataset(capsys, out, count=4)
    assert code == 1 and f"{clips / '000001'} is a link to {outside}" in err
    assert untouched(outside)


def test_two_dataset_runs_on_one_folder(capsys, tmp_path):
    """The second stops at once, naming the folder; the first finishes whole."""
    out = tmp_path / "o"
    clips = out / "dataset" / "clips"
    args = [str(EXE), "run", str(SIM), "--out", str(out), "--set", "randomize.count=6", *SMALL]
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (clips.is_dir() and any(p.name.startswith(".") for p in clips.iterdir())):  # making a clip
        assert first.poll() is None and time.monotonic() < deadline, first.stderr and first.stderr.read()
        time.sleep(0.01)
    code, _, err = run_dataset(capsys, out, count=6)
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert code == 1 and f"another run is writing {out / 'dataset'}" in err
    records = read_manifest(out / "dataset")
    assert [r["id"] for r in records] == [f"{i:06d}" for i in range(6)] and verify(out / "dataset") == []
    assert sorted(p.name for p in clips.iterdir()) == [r["id"] for r in records]


# ------------------------------------------------------------------ Curate and `worldgraph curate`


def curate_cli(capsys, out):
    return run_cli(capsys, "curate", VIDEO, "--out", out, "--set", "dedup=false")


@pytest.mark.parametrize("name", ["clips", "shards"])
@pytest.mark.parametrize("when", ["before", "between"])
def test_curate_refuses_a_fixed_name_linked_out(capsys, tmp_path, outside, name, when):
    out = tmp_path / "cur"
    if when == "between":
        assert curate_cli(capsys, out)[0] == 0
    link(out / name, outside)
    code, _, err = curate_cli(capsys, out)
    assert code == 2 and f"{out / name} is a link to {outside}" in err
    assert untouched(outside)


def test_curate_refuses_a_dangling_clips_link(capsys, tmp_path):
    out = tmp_path / "cur"
    link(out / "clips", tmp_path / "nowhere")
    code, _, err = curate_cli(capsys, out)
    assert code == 2 and "(missing), outside the output folder" in err
    assert not (tmp_path / "nowhere").exists()


def test_the_curate_node_refuses_a_clips_link_out(capsys, tmp_path, outside):
    g = Graph("/G", base_dir=VIDEO.parent)
    g.add_node("curate", "worldgraph.curate.Curate", values={"source": str(VIDEO), "path": "curated", "dedup": False})
    save_graph(g, tmp_path / "curate.usda")
    out = tmp_path / "o"
    assert run_cli(capsys, "run", tmp_path / "curate.usda", "--out", out)[0] == 0
    link(out / "curated" / "clips", outside)
    code, _, err = run_cli(capsys, "run", tmp_path / "curate.usda", "--out", out)
    assert code == 1 and f"{out / 'curated' / 'clips'} is a link to {outside}" in err
    assert untouched(outside)


# ------------------------------------------------------------------ worldgraph batch


def test_batch_refuses_a_clips_link_out(capsys, tmp_path, outside):
    spec = tmp_path / "sweep.toml"
    spec.write_text(f'graph = "{SIM}"\nitems = 1\n[set]\n"randomize.count" = 1\n"simulate.frames" = 5\n'
                    '"render.width" = 32\n"render.height" = 32\n"write.workers" = 1\n')
    out = tmp_path / "batch"
    link(out / "clips", outside)
    code, _, err = run_cli(capsys, "batch", spec, "--out", out, "--resume")
    assert code == 2 and f"{out / 'clips'} is a link to {outside}" in err
    assert untouched(outside)
