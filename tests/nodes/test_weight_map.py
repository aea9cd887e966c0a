"""worldgraph.controls.WeightMap on a simulated clip: uniform, inside prims, painted, ramped."""

import cv2
import numpy as np
import pytest

from worldgraph.nodes import Executor, Graph, default_registry


def graph(tmp_path, **values) -> Graph:
    g = Graph("/G", registry=default_registry(), base_dir=tmp_path)
    g.add_node("randomize", "worldgraph.scene.Randomize", values={"count": 1})
    g.add_node("simulate", "worldgraph.scene.Simulate", values={"frames": 5})
    g.add_node("render", "worldgraph.scene.Render", values={"width": 64, "height": 64})
    g.add_node("clip", "worldgraph.scene.Clip")
    g.add_node("edges", "worldgraph.controls.Canny")
    g.add_node("map", "worldgraph.controls.WeightMap", values=values)
    g.connect("randomize", "scene", "simulate", "scene")
    g.connect("simulate", "simulation", "render", "simulation")
    g.connect("render", "renders", "clip", "renders")
    g.connect("clip", "plain", "edges", "video")
    g.connect("edges", "edges", "map", "like")
    return g


def weights(tmp_path, connect_segmentation: bool = False, **values):
    g = graph(tmp_path, **values)
    if connect_segmentation:
        g.connect("clip", "segmentation", "map", "segmentation")
    result = Executor().run(g, tmp_path / "out")
    return result, (result.outputs["/G/map"]["map"].weights if result.status == "ok" else None)


def test_uniform_with_a_temporal_ramp(tmp_path):
    _, w = weights(tmp_path, value=0.8, ramp_start=0.0, ramp_end=1.0)
    assert w.shape == (5, 64, 64)
    assert np.allclose(w[0], 0.0) and np.allclose(w[-1], 0.8) and np.allclose(w[2], 0.4)


def test_inside_the_prims_of_a_segmentation(tmp_path):
    result, w = weights(tmp_path, True, mode="segmentation", prims="/World/object0", value=1.0, outside=0.25)
    ids = result.outputs["/G/clip"]["segmentation"]
    [inside] = [i for i, p in ids.paths.items() if p == "/World/object0"]
    assert np.allclose(w[ids.ids == inside], 1.0) and np.allclose(w[ids.ids != inside], 0.25)
    assert (ids.ids == inside).any()


def test_a_painted_image_is_scaled_to_the_clip(tmp_path):
    paint = np.zeros((32, 32), np.uint8)
    paint[:, 16:] = 255  # the right half
    cv2.imwrite(str(tmp_path / "paint.png"), paint)
    _, w = weights(tmp_path, mode="image", image="paint.png", value=1.0, outside=0.0)
    assert np.allclose(w[:, :, 40:], 1.0) and np.allclose(w[:, :, :24], 0.0)


@pytest.mark.parametrize(("values", "words"), [
    ({"mode": "segmentation", "prims": "/World/object0"}, "mode segmentation needs the 'segmentation' input"),
    ({"mode": "image"}, "mode image needs the 'image' input"),
    ({"mode": "image", "image": "missing.png"}, "missing.png"),
])
def test_missing_pieces_are_named(tmp_path, values, words):
    result, _ = weights(tmp_path, **values)
    assert result.status != "ok"
    assert any(words in f.message for f in result.failures), result.failures


def test_unknown_prims_list_the_instances(tmp_path):
    result, _ = weights(tmp_path, True, mode="segmentation", prims="/World/nope")
    [failure] = result.failures
    assert failure.path == "/G/map" and "no instance in the segmentation is under /World/nope" in failure.message
    assert "/World/object0" in failure.message
