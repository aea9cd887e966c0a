"""The shipped Transfer branches in the sim2real graph, the Transfer node and the spec command."""

import json

import cv2
import numpy as np

from worldgraph.cli import main
from worldgraph.engines.media.video import read_video, write_video
from worldgraph.engines.transfer.api import installed
from worldgraph.nodes import Executor, Graph, default_registry
from worldgraph.nodes.types import Control

from ..conftest import SAMPLES

GRAPH = SAMPLES / "graphs" / "sim2real.usda"


def test_the_edge_branch_ships():
    assert "edge" in installed()


def test_sim2real_graph_writes_the_clip_its_scene_and_a_sheet(capsys, tmp_path):
    code = main(["run", str(GRAPH), "--out", str(tmp_path), "--json", "--set", "transfer.steps=3"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and events[-1]["status"] == "ok", events[-1]
    frames, _ = read_video(tmp_path / "sim2real.mp4")
    assert frames.shape == (17, 64, 64, 3)
    sheet = cv2.imread(str(tmp_path / "sim2real.png"))
    assert sheet.shape[0] >= 4 * 64 and sheet.shape[1] >= 17 * 64  # plain, edges, generated, real
    assert (tmp_path / "scene.usda").read_text().startswith("#usda 1.0")


def transfer_graph(tmp_path, control_kind: str, port: str, **values) -> Graph:
    edges = np.zeros((9, 64, 64, 3), np.uint8)
    edges[:, 30] = 255
    write_video(tmp_path / "control.mp4", edges, 16.0)
    g = Graph("/T", registry=default_registry(), base_dir=tmp_path)
    g.add_node("control", "worldgraph.controls.LoadControl", values={"path": "control.mp4", "kind": control_kind})
    g.add_node("prompt", "worldgraph.wfm.TextEncode", values={"text": "a red ball rolls"})
    g.add_node("transfer", "worldgraph.transfer.Transfer", values={"frames": 9, "steps": 2} | values)
    g.connect("control", "control", "transfer", port)
    g.connect("prompt", "prompt", "transfer", "prompt")
    return g


def test_a_control_of_another_kind_is_refused_by_name(tmp_path):
    result = Executor().run(transfer_graph(tmp_path, "vis", "edge"), tmp_path / "out")
    [failure] = result.failures
    assert failure.path == "/T/transfer" and "input 'edge' got a 'vis' control" in failure.message


def test_all_weights_zero_is_a_node_error(tmp_path):
    result = Executor().run(transfer_graph(tmp_path, "edge", "edge", edge_weight=0.0), tmp_path / "out")
    [failure] = result.failures
    assert "every control weight is zero" in failure.message


def test_a_spec_runs_end_to_end_and_leaves_its_graph(capsys, tmp_path):
    frames = np.zeros((9, 64, 64, 3), np.uint8)
    frames[:, 16:48, 16:48] = (200, 40, 40)
    write_video(tmp_path / "input.mp4", frames, 16.0)
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 255
    cv2.imwrite(str(tmp_path / "right.png"), mask)
    spec = {"prompt": "a red box", "input_video_path": "input.mp4", "num_steps": 2, "frames": 9,
            "edge": {"control_weight": "right.png"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    code = main(["transfer", str(tmp_path / "spec.json"), "--out", str(tmp_path / "out"), "--json"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and events[-1]["status"] == "ok", events[-1]
    out, _ = read_video(tmp_path / "out" / "output.mp4")
    assert out.shape == (9, 64, 64, 3)
    assert (tmp_path / "out" / "output.png").exists()
    assert main(["validate", str(tmp_path / "out" / "transfer.usda")]) == 0  # the saved graph is valid


def test_the_control_node_output_feeds_transfer(tmp_path):
    g = transfer_graph(tmp_path, "edge", "edge")
    result = Executor().run(g, tmp_path / "out")
    assert result.status == "ok", result.failures
    assert isinstance(result.outputs["/T/control"]["control"], Control)
    assert result.outputs["/T/transfer"]["latent"].values.shape == (16, 3, 8, 8)
