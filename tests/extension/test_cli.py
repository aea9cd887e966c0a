"""The worldgraph CLI: commands, exit codes, JSON, and bad input without tracebacks."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from worldgraph import __version__
from worldgraph.cli import main

from ..conftest import SAMPLES

EDGES = SAMPLES / "graphs" / "edges.usda"


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def graph_dir(tmp_path):
    """A copy of the sample graph and its video, free to edit."""
    (tmp_path / "graphs").mkdir()
    shutil.copytree(SAMPLES / "videos", tmp_path / "videos")
    shutil.copy(EDGES, tmp_path / "graphs" / "edges.usda")
    return tmp_path


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"worldgraph {__version__}"


def test_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out and "130" in out


def test_run_sample_graph(capsys, tmp_path):
    code, out, err = run_cli(capsys, "run", EDGES, "--out", tmp_path)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edges.mp4", "edges_sheet.png", "vis.mp4"]
    assert "wrote 3 file(s)" in out and "ok: 6 ran" in out
    assert "✓ /Edges/canny" in err


def test_run_json_events_and_set(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "run", EDGES, "--out", tmp_path, "--json", "--seed", "7",
                           "--set", "/Edges/canny.preset=very_high", "--set", "save_edges.crf=30")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert events[0] == {"event": "graph_started", "graph": "/Edges", "nodes": 6, "seed": 7}
    assert events[-1]["event"] == "result" and events[-1]["status"] == "ok"
    assert len(events[-1]["files"]) == 3
    assert {e["event"] for e in events} >= {"node_started", "node_finished", "graph_finished"}


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("/Edges/canny.preset=blurry", "'blurry' is not one of very_low"),
        ("/Edges/canny.low=abc", "'abc' is not a int"),
        ("/Edges/nope.preset=high", "no node '/Edges/nope'"),
        ("/Edges/canny.nope=1", "has no input 'nope'"),
        ("canny", "expected NODE.INPUT=VALUE"),
        # nan passed the range check [0, inf]; these paths failed only after the upstream nodes ran
        ("load.fps=nan", "/Edges/load.inputs:fps: nan is not a finite number"),
        ("load.fps=inf", "/Edges/load.inputs:fps: inf is not a finite number"),
        ("save_edges.path=../escape.mp4", "save_edges.inputs:path: output path '../escape.mp4' leaves the output folder"),
        ("save_edges.path=/tmp/x.mp4", "save_edges.inputs:path: output path '/tmp/x.mp4' is absolute"),
    ],
)
def test_bad_set_is_a_usage_error(capsys, tmp_path, assignment, message):
    code, _, err = run_cli(capsys, "run", EDGES, "--out", tmp_path, "--set", assignment)
    assert code == 2 and message in err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_validate_ok_and_json(capsys):
    code, out, _ = run_cli(capsys, "validate", EDGES)
    assert code == 0 and out.strip() == f"ok: {EDGES} (6 nodes)"
    code, out, _ = run_cli(capsys, "validate", EDGES, "--json")
    assert code == 0 and json.loads(out)[0]["valid"] is True


def test_nodes_lists_every_schema(capsys):
    code, out, _ = run_cli(capsys, "nodes", "--json")
    schemas = {s["id"]: s for s in json.loads(out)}
    assert code == 0 and {"worldgraph.io.LoadVideo", "worldgraph.controls.Canny"} <= set(schemas)
    preset = next(i for i in schemas["worldgraph.controls.Canny"]["inputs"] if i["name"] == "preset")
    assert preset["choices"][0] == "very_low" and preset["default"] == "medium"
    code, out, _ = run_cli(capsys, "nodes", "worldgraph.io.SaveVideo")
    assert "in  crf: int (default 18, range [0, 51])" in out
    code, _, err = run_cli(capsys, "nodes", "worldgraph.io.SaveVidoe")
    assert code == 2 and "did you mean worldgraph.io.SaveVideo" in err


def edit(graph_dir, old, new):
    path = graph_dir / "graphs" / "edges.usda"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


BAD_GRAPHS = {
    # name: (replace this, with that, exit code, words the message must hold)
    "malformed": ("def OmniGraphNode \"canny\"", "def OmniGraphNode \"canny\" {{", 2,
                  ["edges.usda", "cannot read as USD", "line"]),
    "cycle": ("</Edges/load.outputs:video>\n        custom token node:type = \"worldgraph.controls.Canny\"",
              "</Edges/canny.outputs:edges>\n        custom token node:type = \"worldgraph.controls.Canny\"",
              2, ["/Edges: nodes form a cycle: /Edges/canny"]),
    "unknown type": ('"worldgraph.controls.Canny"', '"worldgraph.controls.Cany"', 2,
                     ["/Edges/canny", "unknown node type 'worldgraph.controls.Cany'", "did you mean"]),
    "wrong value type": ('custom string inputs:path = "edges.mp4"', "custom int inputs:path = 5", 2,
                         ["/Edges/save_edges.inputs:path: expected output_file, got int 5"]),
    "escaping output path": ('custom string inputs:path = "edges.mp4"', 'custom string inputs:path = "a/../../e.mp4"', 2,
                             ["/Edges/save_edges.inputs:path: output path 'a/../../e.mp4' leaves the output folder"]),
    "nan in the file": ("custom asset inputs:path = @../videos/bouncing_shapes.mp4@",
                        "custom asset inputs:path = @../videos/bouncing_shapes.mp4@\n        custom double inputs:fps = nan",
                        2, ["/Edges/load.inputs:fps: nan is not a finite number"]),
    "missing prim": ("</Edges/canny.outputs:edges>", "</Edges/ghost.outputs:edges>", 2,
                     ["/Edges/save_edges.inputs:video", "there is no node /Edges/ghost"]),
    "missing output": ("</Edges/canny.outputs:edges>", "</Edges/canny.outputs:lines>", 2,
                       ["/Edges/save_edges.inputs:video", "has no output 'lines'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
def test_bad_graphs_exit_2_with_a_precise_message(capsys, graph_dir, case):
    old, new, expected_code, words = BAD_GRAPHS[case]
    path = edit(graph_dir, old, new)
    out_dir = graph_dir / "out"
    for command in (["validate", path], ["run", path, "--out", out_dir]):
        code, out, err = run_cli(capsys, *command)
        assert code == expected_code, (command, out, err)
        for word in words:
            assert word in err, (word, err)
    assert not out_dir.exists()  # nothing ran, nothing written


@pytest.mark.parametrize(
    "content, words",
    [(None, ["no such file"]), (b"", ["the file is empty"]), (os.urandom(512), ["cannot read as USD"])],
)
def test_unreadable_graph_files_exit_2(capsys, tmp_path, content, words):
    path = tmp_path / "g.usda"
    if content is not None:
        path.write_bytes(content)
    for command in (["validate", path], ["run", path, "--out", tmp_path / "out"]):
        code, _, err = run_cli(capsys, *command)
        assert code == 2 and str(path) in err and all(w in err for w in words)
    code, out, _ = run_cli(capsys, "validate", path, "--json")
    assert code == 2 and json.loads(out)[0]["valid"] is False


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42 but then nothing useful"])
def test_corrupt_video_exits_1_naming_node_input_and_file(capsys, graph_dir, content):
    (graph_dir / "videos" / "bouncing_shapes.mp4").write_bytes(content)
    out_dir = graph_dir / "out"
    code, out, err = run_cli(capsys, "run", graph_dir / "graphs" / "edges.usda", "--out", out_dir)
    assert code == 1
    assert "/Edges/load (worldgraph.io.LoadVideo) failed" in err
    assert "bouncing_shapes.mp4" in err and "inputs: path=" in err
    assert "/Edges/canny skipped: /Edges/load failed" in err
    assert not out_dir.exists() or not any(out_dir.rglob("*"))  # nothing half-written


def test_real_executable_has_no_traceback_and_debug_shows_one(tmp_path):
    exe = Path(sys.executable).with_name("worldgraph")
    bad = tmp_path / "bad.usda"
    bad.write_bytes(b"\xff\xfe garbage")
    plain = subprocess.run([exe, "run", bad], capture_output=True, text=True)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.startswith(f"error: {bad}: cannot read as USD")
    debug = subprocess.run([exe, "--debug", "run", bad], capture_output=True, text=True)
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    ok = subprocess.run([exe, "validate", EDGES], capture_output=True, text=True)
    assert ok.returncode == 0
