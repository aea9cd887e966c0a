"""The shipped world model in a graph and on the command line."""

import json

import numpy as np
import pytest

from worldgraph.cli import main
from worldgraph.engines import catalog

from ..conftest import SAMPLES

GRAPH = SAMPLES / "graphs" / "video2world.usda"


def test_the_world_model_ships():
    assert "wfm-cv4x8x8" in catalog.names("wfm")


def test_video2world_graph_writes_a_sheet_of_truth_over_prediction(capsys, tmp_path):
    code = main(["run", str(GRAPH), "--out", str(tmp_path), "--json", "--set", "/Video2World/video2world.steps=4"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and events[-1]["status"] == "ok", events[-1]
    finished = {e["path"]: e for e in events if e["event"] == "node_finished"}
    assert finished["/Video2World/video2world"]["outputs"]["latent"].startswith("Latent (16, 5, 8, 8)")
    import cv2

    sheet = cv2.imread(str(tmp_path / "video2world.png"))
    assert sheet.shape[0] >= 128 and sheet.shape[1] >= 17 * 64  # two rows of 64 px, 17 frames
    assert (tmp_path / "video2world.mp4").stat().st_size > 0


@pytest.mark.parametrize("model, tokenizer", [("wfm-cv4x8x8", "cv4x8x8"), ("wfm-cv4x8x8-v2", "cv4x8x8-v2")])
def test_video2world_keeps_the_given_frames(tmp_path, model, tokenizer):
    from worldgraph.nodes import Executor, Graph

    g = Graph("/G", base_dir=SAMPLES / "videos")
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": "bouncing_shapes.mp4", "max_frames": 5})
    g.add_node("text", "worldgraph.wfm.TextEncode", values={"text": "a red ball falls; the camera is still"})
    g.add_node("v2w", "worldgraph.wfm.Video2World", values={"steps": 2, "frames": 9, "model": model})
    g.add_node("decode", "worldgraph.tokenizer.Decode")
    g.connect("load", "video", "v2w", "video")
    g.connect("text", "prompt", "v2w", "prompt")
    g.connect("v2w", "latent", "decode", "latent")
    result = Executor().run(g, tmp_path)
    assert result.status == "ok", result.failures
    assert result.outputs["/G/v2w"]["latent"].tokenizer == tokenizer  # so Decode picks that tokenizer
    video = result.outputs["/G/decode"]["video"].frames
    given = result.outputs["/G/load"]["video"].frames
    assert video.shape[0] == 9 and video.shape[1:] == given.shape[1:]
    assert np.abs(video[:5].astype(int) - given).mean() < 25  # the given frames, through the tokenizer


@pytest.mark.parametrize(
    "name, value, words",
    [("guidance", 25.0, ["out of range [0, 20]"]), ("steps", 0, ["out of range [1, 200]"]),
     ("sampler", "ddim", ["heun"])],
)
def test_out_of_range_sampling_inputs_fail_validation(capsys, name, value, words):
    from worldgraph.nodes import Graph, validate

    g = Graph("/G")
    g.add_node("text", "worldgraph.wfm.TextEncode", values={"text": "a ball"})
    g.add_node("t2w", "worldgraph.wfm.Text2World")
    g.connect("text", "prompt", "t2w", "prompt")
    g.node("t2w").values[name] = value  # as a hand-edited file would hold it
    problems = validate(g)
    assert problems and problems[0].input == name and all(w in problems[0].reason for w in words), problems


def test_empty_prompt_with_guidance_is_a_node_error(tmp_path):
    from worldgraph.nodes import Executor, Graph

    g = Graph("/G")
    g.add_node("text", "worldgraph.wfm.TextEncode", values={"text": ""})
    g.add_node("t2w", "worldgraph.wfm.Text2World", values={"steps": 1})
    g.connect("text", "prompt", "t2w", "prompt")
    result = Executor().run(g, tmp_path)
    assert "an empty prompt with guidance on" in result.failures[0].message


def test_eval_wfm_prints_the_table_as_json(capsys, tmp_path):
    from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
    from worldgraph.engines.sim.randomize import RandomizeConfig

    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=4242, count=2)), tmp_path, workers=1)
    code = main(["eval", "wfm", "--data", str(tmp_path), "--steps", "2", "--batch", "2", "--json"])
    table = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"video2world", "copy_first_frame", "tokenizer_reconstruction", "physical_variance",
            "text2world"} <= set(table)
    assert set(table["video2world"]["spatiotemporal_iou"]) == {"1", "2"}
    assert "prompt_adherence" in table["text2world"]


def test_train_wfm_unknown_recipe_is_a_usage_error(capsys, tmp_path):
    code = main(["train", "wfm", "--recipe", "nope", "--data", str(tmp_path)])
    assert code == 2 and "unknown recipe 'nope'; recipes: wfm-cv4x8x8" in capsys.readouterr().err


def test_train_device_errors_are_usage_errors(capsys, tmp_path):
    code = main(["train", "estimator", "--recipe", "estimate-depth", "--data", str(tmp_path), "--device", "cuda"])
    assert code == 2 and "train estimator runs on the CPU only (--device cuda)" in capsys.readouterr().err
    code = main(["train", "tokenizer", "--recipe", "tiny-cv", "--data", str(tmp_path), "--run", str(tmp_path / "tok"),
                 "--device", "tpu"])
    assert code == 2 and "unknown device 'tpu'; use cpu or cuda[:N]" in capsys.readouterr().err
    code = main(["train", "wfm", "--recipe", "tiny-wfm", "--data", str(tmp_path), "--run", str(tmp_path / "run"),
                 "--device", "tpu"])
    assert code == 2 and "unknown device 'tpu'; use cpu or cuda[:N]" in capsys.readouterr().err
