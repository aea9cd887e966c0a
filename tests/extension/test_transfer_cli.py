"""worldgraph transfer SPEC.json: Cosmos-Transfer1 controlnet_specs checked field by field."""

import json

import numpy as np
import pytest

from worldgraph.cli import main
from worldgraph.engines.media.video import write_video


@pytest.fixture
def spec_dir(tmp_path):
    frames = np.zeros((9, 64, 64, 3), np.uint8)
    frames[:, 20:40, 20:40] = 200
    write_video(tmp_path / "input.mp4", frames, 16.0)
    write_video(tmp_path / "depth.mp4", frames, 16.0)
    return tmp_path


def run_spec(spec_dir, spec, capsys):
    (spec_dir / "spec.json").write_text(json.dumps(spec) if not isinstance(spec, str) else spec)
    code = main(["transfer", str(spec_dir / "spec.json"), "--out", str(spec_dir / "out")])
    return code, capsys.readouterr().err


GOOD = {"prompt": "a red ball rolls", "input_video_path": "input.mp4", "edge": {"control_weight": 0.5}}


@pytest.mark.parametrize(("change", "words"), [
    ({"colour": "red"}, "spec.json: colour unknown field; a spec takes"),
    ({"edge": {"control_weight": 0.5, "strength": 2}}, "edge.strength unknown field; a modality takes control_weight"),
    ({"edge": {"control_weight": 0.5, "control_weight_prompt": "robot arm"}},
     "edge.control_weight_prompt needs a text-grounded segmenter"),
    ({"input_video_path": "missing.mp4"}, "input_video_path 'missing.mp4': no such file"),
    ({"input_video_path": "", "edge": {"input_control": "depth.mp4"}, "depth": {"control_weight": 1}},
     "depth.input_control missing: give a depth video or input_video_path to make it from"),
    ({"depth": {"input_control": "nope.mp4"}}, "depth.input_control 'nope.mp4': no such file"),
    ({"edge": {"control_weight": "mask.png"}}, "edge.control_weight 'mask.png': no such file"),
    ({"edge": {"control_weight": -1}}, "edge.control_weight must be within 0..10, got -1"),
    ({"edge": {"control_weight": [1]}}, "edge.control_weight must be a number or a grey image's path"),
    ({"edge": 0.5}, "edge must be an object"),
    ({"prompt": ""}, "prompt is empty"),
    ({"num_steps": "many"}, "num_steps has the wrong type"),
    ({"canny_threshold": "extreme"}, "canny_threshold 'extreme' is not one of very_low"),
])
def test_bad_specs_exit_2_naming_the_field(spec_dir, capsys, change, words):
    code, err = run_spec(spec_dir, GOOD | change, capsys)
    assert code == 2 and words in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(("text", "words"), [
    # json reads NaN and Infinity; the sampler then ran 10 s before failing on them
    ('"guidance": NaN', "spec.json: guidance must be a finite number, got NaN"),
    ('"sigma_max": Infinity', "spec.json: sigma_max must be a finite number, got Infinity"),
    ('"edge": {"control_weight": -Infinity}', "edge.control_weight must be a finite number, got -Infinity"),
    ('"input_video_path": "in\\u0000put.mp4"', "input_video_path path 'in\\x00put.mp4' holds the control character"),
])
def test_non_finite_numbers_and_control_characters_are_named(spec_dir, capsys, text, words):
    spec = '{"prompt": "a red ball rolls", "input_video_path": "input.mp4", "edge": {}, ' + text + "}"
    code, err = run_spec(spec_dir, spec, capsys)
    assert code == 2 and words in err, err
    assert not (spec_dir / "out").exists()  # refused before any model ran


def test_deep_or_huge_specs_exit_2(spec_dir, capsys):
    deep = '{"prompt": "x", "edge": {}, "extra": ' + "[" * 200_000 + "]" * 200_000 + "}"
    code, err = run_spec(spec_dir, deep, capsys)  # json's own recursion died with RecursionError (exit 1)
    assert code == 2 and "spec.json: arrays and objects nest more than 32 deep; a spec needs 2" in err, err
    in_text = json.dumps(GOOD | {"prompt": '[[[["\\' * 100, "colour": 1})  # brackets in a string do not count
    code, err = run_spec(spec_dir, in_text, capsys)
    assert code == 2 and "spec.json: colour unknown field" in err, err  # it was read
    code, err = run_spec(spec_dir, json.dumps(GOOD | {"negative_prompt": "x" * 2**20}), capsys)
    assert code == 2 and "bytes is more than a spec may hold (1048576)" in err, err


def test_a_spec_needs_a_modality_and_vis_edge_need_a_source(spec_dir, capsys):
    code, err = run_spec(spec_dir, {"prompt": "x", "input_video_path": "input.mp4"}, capsys)
    assert code == 2 and "no modality: add one of vis, edge, depth, seg" in err
    code, err = run_spec(spec_dir, {"prompt": "x", "vis": {"control_weight": 1}}, capsys)
    assert code == 2 and "vis.input_control missing: give a vis video or input_video_path to make it from" in err


def test_not_json_is_named(spec_dir, capsys):
    code, err = run_spec(spec_dir, "{prompt:", capsys)
    assert code == 2 and "spec.json: not a readable JSON spec" in err


def test_depth_and_seg_without_a_control_are_estimated_from_the_input_video(spec_dir):
    from worldgraph.transfer_spec import spec_graph

    (spec_dir / "spec.json").write_text(json.dumps(GOOD | {"depth": {"control_weight": 0.5}, "seg": {}}))
    graph = spec_graph(spec_dir / "spec.json")
    assert graph.node("depth_estimate").type_id == "worldgraph.controls.EstimateDepth"
    assert graph.node("seg_estimate").type_id == "worldgraph.controls.EstimateSegmentation"
    assert str(graph.node("depth_estimate").connections["video"]) == "/Transfer/input.outputs:video"
    assert str(graph.node("depth_control").connections["depth"]) == "/Transfer/depth_estimate.outputs:depth"
    assert str(graph.node("transfer").connections["seg"]) == "/Transfer/seg_control.outputs:control"
