"""The worldgraph.curate nodes, run through the executor like any graph."""

import json

from worldgraph.engines.sim.dataset import read_manifest
from worldgraph.nodes import Executor, Graph, default_registry

from .conftest import FRAMES


def shot_graph(video) -> Graph:
    g = Graph("/G", registry=default_registry(), base_dir=video.parent)
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": video.name})
    g.add_node("shots", "worldgraph.curate.DetectShots", values={"shot": 1})
    g.add_node("transcode", "worldgraph.curate.Transcode", values={"fps": 8.0, "width": 32, "height": 48})
    g.add_node("filter", "worldgraph.curate.FilterClip", values={})
    g.add_node("save", "worldgraph.io.SaveVideo", values={"path": "shot1.mp4"})
    g.connect("load", "video", "shots", "video")
    g.connect("shots", "video", "transcode", "video")
    g.connect("transcode", "video", "filter", "video")
    g.connect("filter", "video", "save", "video")
    return g


def test_a_shot_is_cut_transcoded_filtered_and_saved(footage, tmp_path):
    result = Executor().run(shot_graph(footage["stitched"]), tmp_path)
    assert result.status == "ok", result.failures
    out = result.outputs
    assert out["/G/shots"]["shots"] == 3 and json.loads(out["/G/shots"]["cuts"]) == [FRAMES, 2 * FRAMES]
    assert out["/G/shots"]["video"].frames.shape[0] == FRAMES
    assert out["/G/transcode"]["video"].frames.shape == (FRAMES // 2 + 1, 48, 32, 3)  # 16 -> 8 fps
    assert json.loads(out["/G/filter"]["measures"])["motion_global"] > 0.001
    assert (tmp_path / "shot1.mp4").is_file()


def test_a_clip_failing_a_filter_blocks_the_branch_with_the_value(footage, tmp_path):
    g = shot_graph(footage["static"])
    g.set_value("shots", "shot", 0)
    result = Executor().run(g, tmp_path)
    assert result.status == "blocked" and not result.failures
    assert result.blocked["/G/save"].startswith("blocked by /G/filter: motion: motion_global ")
    assert "< 0.001" in result.blocked["/G/save"]
    assert not (tmp_path / "shot1.mp4").exists()


def test_asking_for_a_shot_that_is_not_there_names_the_cuts(footage, tmp_path):
    g = shot_graph(footage["stitched"])
    g.set_value("shots", "shot", 5)
    [failure] = Executor().run(g, tmp_path).failures
    assert failure.path == "/G/shots" and "shot 5 asked of a video with 3 shot(s)" in failure.message


def test_the_curate_node_writes_a_dataset_and_a_report(footage, tmp_path):
    g = Graph("/G", registry=default_registry(), base_dir=footage["text"].parent)
    g.add_node("curate", "worldgraph.curate.Curate",
               values={"source": footage["text"].name, "path": "curated", "dedup": False, "max_text_area": 1.0})
    result = Executor().run(g, tmp_path)
    assert result.status == "ok", result.failures
    dataset = result.outputs["/G/curate"]["dataset"]
    assert dataset.root == tmp_path / "curated" and dataset.items
    assert list(dataset.items) == [r["id"] for r in read_manifest(dataset.root)]
    report = json.loads(result.outputs["/G/curate"]["report"].read_text())
    assert report["config"]["max_text_area"] == 1.0 and not report["dropped"]  # the input reached the engine


def test_the_curate_node_fails_when_no_input_can_be_curated(footage, tmp_path):
    g = Graph("/G", registry=default_registry(), base_dir=footage["vfr"].parent)
    g.add_node("curate", "worldgraph.curate.Curate", values={"source": footage["vfr"].name})
    [failure] = Executor().run(g, tmp_path).failures
    assert "no input could be curated" in failure.message and "variable frame rate" in failure.message


def test_node_defaults_are_the_engine_defaults():
    from dataclasses import asdict

    from worldgraph.engines.curate import CurateConfig

    engine = asdict(CurateConfig())
    for type_id in ("worldgraph.curate.Curate", "worldgraph.curate.FilterClip", "worldgraph.curate.DetectShots"):
        for i in default_registry().get(type_id).schema.inputs:
            if i.name in engine:
                assert i.default == engine[i.name], (type_id, i.name)
