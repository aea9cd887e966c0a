"""The shipped autoregressive world model in a graph and on the command line."""

import json

import numpy as np
import pytest

from worldgraph.cli import main
from worldgraph.engines import catalog

from ..conftest import SAMPLES

GRAPH = SAMPLES / "graphs" / "ar_video2world.usda"


def test_the_autoregressive_model_ships():
    assert "ar-dv4x8x8" in catalog.names("ar")


def test_ar_video2world_graph_writes_a_sheet_of_truth_over_prediction(capsys, tmp_path):
    code = main(["run", str(GRAPH), "--out", str(tmp_path), "--json",
                 "--set", "/ARVideo2World/ar_video2world.search=best_of_n",
                 "--set", "/ARVideo2World/ar_video2world.candidates=2"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and events[-1]["status"] == "ok", events[-1]
    finished = {e["path"]: e for e in events if e["event"] == "node_finished"}
    outputs = finished["/ARVideo2World/ar_video2world"]["outputs"]
    assert outputs["latent"].startswith("Latent (4, 5, 8, 8) from dv4x8x8")
    assert outputs["tokens"].startswith("Tokens (5, 8, 8)")
    import cv2

    sheet = cv2.imread(str(tmp_path / "ar_video2world.png"))
    assert sheet.shape[0] >= 128 and sheet.shape[1] >= 17 * 64


def ar_graph(values):
    from worldgraph.nodes import Graph

    g = Graph("/G", base_dir=SAMPLES / "videos")
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": "bouncing_shapes.mp4", "max_frames": 5})
    g.add_node("small", "worldgraph.io.Resize", values={"width": 64, "height": 64})
    g.add_node("ar", "worldgraph.wfm.ARVideo2World", values={"frames": 9} | values)
    g.add_node("decode", "worldgraph.tokenizer.Decode")
    g.connect("load", "video", "small", "video")
    g.connect("small", "video", "ar", "video")
    g.connect("ar", "latent", "decode", "latent")
    return g


def test_ar_video2world_keeps_the_given_frames_and_is_seeded(tmp_path):
    from worldgraph.nodes import Executor

    runs = [Executor().run(ar_graph({"seed": s}), tmp_path / str(i)) for i, s in enumerate((1, 1, 2))]
    assert all(r.status == "ok" for r in runs), [r.failures for r in runs]
    tokens = [r.outputs["/G/ar"]["tokens"].indices for r in runs]
    assert tokens[0].shape == (3, 8, 8)
    assert np.array_equal(tokens[0], tokens[1]) and not np.array_equal(tokens[0], tokens[2])
    video = runs[0].outputs["/G/decode"]["video"].frames
    given = runs[0].outputs["/G/small"]["video"].frames
    assert given.shape == (5, 64, 64, 3)
    assert video.shape[0] == 9 and np.abs(video[:5].astype(int) - given).mean() < 30  # through the DV tokenizer


@pytest.mark.parametrize("name, value, words", [
    ("top_p", 0.0, ["out of range"]), ("temperature", 0.0, ["out of range"]), ("search", "greedy", ["beam"]),
])
def test_bad_ar_inputs_fail_validation(name, value, words):
    from worldgraph.nodes import validate

    g = ar_graph({})
    g.node("ar").values[name] = value
    problems = validate(g)
    assert problems and problems[0].input == name and all(w in problems[0].reason for w in words), problems


def test_a_clip_larger_than_the_model_saw_is_a_node_error(tmp_path):
    from worldgraph.nodes import Executor

    g = ar_graph({})
    g.node("small").values.update(width=128, height=128)
    result = Executor().run(g, tmp_path)
    assert "16x16 tokens is 768 tokens; the model sees at most 320" in result.failures[0].message
    assert "trained on 64x64" in result.failures[0].message


def test_a_beam_width_that_does_not_divide_the_candidates_is_a_node_error(tmp_path):
    from worldgraph.nodes import Executor

    result = Executor().run(ar_graph({"search": "beam", "candidates": 6, "beam_width": 4}), tmp_path)
    assert "beam_width must divide candidates (6)" in result.failures[0].message


def test_eval_ar_prints_both_paradigms_as_json(capsys, tmp_path):
    from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
    from worldgraph.engines.sim.randomize import RandomizeConfig

    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=4343, count=2)), tmp_path, workers=1)
    code = main(["eval", "ar", "--data", str(tmp_path), "--steps", "2", "--batch", "2", "--frames", "9", "--json"])
    table = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"autoregressive", "diffusion", "copy_first_frame", "dv_reconstruction", "physical_variance"} <= set(table)
    assert set(table["autoregressive"]["score"]) == {"1", "2"}


@pytest.mark.parametrize("flags, message", [
    (["--top-p", "1.5"], "top_p must be within (0, 1], got 1.5"),
    (["--temperature", "0"], "temperature must be > 0, got 0"),
    (["--search", "beam", "--candidates", "4", "--beam-width", "3"], "beam_width must divide candidates (4)"),
])
def test_eval_ar_bad_sampling_is_a_usage_error(capsys, tmp_path, flags, message):
    code = main(["eval", "ar", "--data", str(tmp_path), *flags])
    assert code == 2 and message in capsys.readouterr().err


def test_train_ar_unknown_recipe_is_a_usage_error(capsys, tmp_path):
    code = main(["train", "ar", "--recipe", "nope", "--data", str(tmp_path)])
    assert code == 2 and "unknown recipe 'nope'; recipes: ar-dv4x8x8" in capsys.readouterr().err
