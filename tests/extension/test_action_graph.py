"""The shipped action-conditioned world model in graphs and on the command line, and the
planner with it."""

import json

import numpy as np
import pytest

from worldgraph.cli import main
from worldgraph.engines import catalog

from ..conftest import SAMPLES


def test_the_action_model_ships():
    # the default, and the model it was fine-tuned from (its recipe starts there)
    assert catalog.names("action") == ["action-cv4x8x8", "action-pusher-cv4x8x8"]


def test_action_video2world_graph_writes_truth_over_prediction(capsys, tmp_path):
    graph = SAMPLES / "graphs" / "action_video2world.usda"
    code = main(["run", str(graph), "--out", str(tmp_path), "--json", "--set", "predict.steps=2"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and events[-1]["status"] == "ok", events[-1]
    finished = {e["path"]: e for e in events if e["event"] == "node_finished"}
    outputs = finished["/ActionVideo2World/predict"]["outputs"]
    assert outputs["latent"].startswith("Latent (16, 5, 8, 8)") and outputs["video"].startswith("Video 17x64x64")
    import cv2

    sheet = cv2.imread(str(tmp_path / "action_video2world.png"))
    assert sheet.shape[0] >= 128 and sheet.shape[1] >= 17 * 64


def test_world_axis_actions_need_the_camera(tmp_path):
    from worldgraph.nodes import Executor, Graph

    g = Graph("/G")
    g.add_node("scenes", "worldgraph.scene.Randomize",
               values={"count": 1, "starts": "rest", "camera_motions": "static", "pusher": True,
                       "pusher_mode": "explore"})
    g.add_node("sim", "worldgraph.scene.Simulate", values={"frames": 9})
    g.add_node("render", "worldgraph.scene.Render", values={"styles": "real"})
    g.add_node("clip", "worldgraph.scene.Clip")
    g.add_node("predict", "worldgraph.wfm.ActionVideo2World", values={"frames": 9, "steps": 1})
    for s, o, t, i in [("scenes", "scene", "sim", "scene"), ("sim", "simulation", "render", "simulation"),
                       ("render", "renders", "clip", "renders"), ("clip", "rgb", "predict", "video"),
                       ("clip", "actions", "predict", "actions")]:
        g.connect(s, o, t, i)
    result = Executor().run(g, tmp_path)
    assert result.status == "failed"
    assert "connect the camera" in str(result.failures)


def test_mpc_plans_with_the_world_model(tmp_path):
    from worldgraph.nodes import Executor, Graph

    g = Graph("/G")
    g.add_node("scenes", "worldgraph.scene.Randomize",
               values={"count": 1, "max_objects": 1, "shapes": "cube", "starts": "rest", "camera_motions": "static",
                       "pusher": True, "pusher_mode": "explore"})
    g.add_node("mpc", "worldgraph.plan.MPC",
               values={"chunks": 2, "samples": 2, "iterations": 1, "sampler_steps": 1, "horizon": 2})
    g.connect("scenes", "scene", "mpc", "scene")
    result = Executor().run(g, tmp_path)
    assert result.status == "ok", result.failures
    out = result.outputs["/G/mpc"]
    assert out["video"].frames.shape == (9, 64, 64, 3) and np.abs(out["actions"].values).max() > 0


@pytest.fixture(scope="module")
def pusher_heldout(tmp_path_factory):
    from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
    from worldgraph.engines.sim.pipeline import ClipSettings
    from worldgraph.engines.sim.randomize import RandomizeConfig

    root = tmp_path_factory.mktemp("pusherheldout")
    config = RandomizeConfig(starts=("rest",), camera_motions=("static",), pusher=True, pusher_mode="explore")
    write_dataset(ClipJobs(SceneSet(randomize=config, seed=77, count=1), ClipSettings(frames=17)), root, workers=1)
    return root


def test_eval_action_prints_the_table_as_json(capsys, pusher_heldout):
    code = main(["eval", "action", "--data", str(pusher_heldout), "--steps", "1", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["windows"] == 1
    assert set(result["methods"]) == {"action", "no_action", "action_composite", "no_action_composite",
                                      "copy_last_frame", "tokenizer_reconstruction"}
    assert result["methods"]["action"]["8"]["psnr"] > 10


def test_eval_action_on_a_dataset_without_actions_says_so(capsys, tmp_path):
    from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
    from worldgraph.engines.sim.pipeline import ClipSettings

    write_dataset(ClipJobs(SceneSet(files=(SAMPLES / "scenes" / "box_stack.usda",)), ClipSettings(frames=17)),
                  tmp_path, workers=1)
    code = main(["eval", "action", "--data", str(tmp_path), "--steps", "1"])
    assert code == 2 and "no actions.npy" in capsys.readouterr().err
