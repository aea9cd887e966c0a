"""The estimator nodes in graphs: depth and segmentation from a rendered clip, on torch and
ONNX Runtime, feeding the control and weight-map nodes as the simulator's own would."""

import numpy as np
import pytest
import torch

from worldgraph.engines.estimate import api
from worldgraph.engines.estimate.data import clip_classes
from worldgraph.engines.metrics import si_rmse
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.nodes import Executor, Graph, default_registry

pytestmark = pytest.mark.skipif(api.installed() != ["depth", "seg"], reason="the estimators are not installed")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    root = tmp_path_factory.mktemp("estimategraph")
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=77, count=1), ClipSettings(frames=9)),
                  root, workers=1)
    return root / "clips" / "000000"


def estimate_graph(clip, backend: str) -> Graph:
    g = Graph("/E", registry=default_registry(), base_dir=clip)
    g.add_node("video", "worldgraph.io.LoadVideo", values={"path": "rgb.mp4"})
    g.add_node("depth", "worldgraph.controls.EstimateDepth", values={"backend": backend})
    g.add_node("seg", "worldgraph.controls.EstimateSegmentation", values={"backend": backend})
    g.add_node("depth_control", "worldgraph.controls.DepthVideo")
    g.add_node("colours", "worldgraph.controls.SegmentationColors")
    g.add_node("weights", "worldgraph.controls.WeightMap",
               values={"mode": "segmentation", "prims": "/estimated/floor", "value": 1.0, "outside": 0.25})
    for target in ("depth", "seg"):
        g.connect("video", "video", target, "video")
    g.connect("depth", "depth", "depth_control", "depth")
    g.connect("seg", "segmentation", "colours", "segmentation")
    g.connect("seg", "segmentation", "weights", "segmentation")
    return g


@pytest.fixture(scope="module")
def torch_run(clip, tmp_path_factory):
    result = Executor().run(estimate_graph(clip, "torch"), tmp_path_factory.mktemp("out"))
    assert result.status == "ok", result.failures
    return result


def test_estimated_depth_follows_the_simulators_and_becomes_a_depth_control(clip, torch_run):
    depth = torch_run.outputs["/E/depth"]["depth"].metres
    truth = np.load(clip / "depth.npy").astype(np.float32)
    assert depth.shape == truth.shape and depth.dtype == np.float32
    error = si_rmse(torch.from_numpy(depth), torch.from_numpy(truth)).mean()
    flat = si_rmse(torch.ones_like(torch.from_numpy(truth)), torch.from_numpy(truth)).mean()
    assert error < 0.5 * flat
    control = torch_run.outputs["/E/depth_control"]["control"]
    assert control.kind == "depth" and control.frames.shape == (*truth.shape, 3)


def test_estimated_segmentation_names_classes_that_weight_maps_select(clip, torch_run):
    seg = torch_run.outputs["/E/seg"]["segmentation"]
    truth = clip_classes(clip)
    assert seg.ids.shape == truth.shape
    assert "/estimated/floor" in seg.paths.values()
    assert all(p.startswith("/estimated/") for p in seg.paths.values())
    floor = seg.ids == 1
    assert (floor & (truth == 1)).sum() / (floor | (truth == 1)).sum() > 0.8  # the floor is found
    weights = torch_run.outputs["/E/weights"]["map"].weights
    assert set(np.unique(weights)) == {0.25, 1.0} and (weights == 1.0).sum() == floor.sum()
    assert torch_run.outputs["/E/colours"]["control"].kind == "seg"


def test_onnx_runtime_gives_what_torch_gives(clip, torch_run, tmp_path):
    result = Executor().run(estimate_graph(clip, "onnxruntime"), tmp_path)
    assert result.status == "ok", result.failures
    ort, ref = result.outputs["/E/depth"]["depth"].metres, torch_run.outputs["/E/depth"]["depth"].metres
    assert np.abs(np.log(ort) - np.log(ref)).max() < 1e-3
    agree = (result.outputs["/E/seg"]["segmentation"].ids == torch_run.outputs["/E/seg"]["segmentation"].ids).mean()
    assert agree > 0.999


def test_a_video_too_small_for_the_estimator_is_a_node_error(tmp_path):
    from worldgraph.engines.media.video import write_video

    write_video(tmp_path / "tiny.mp4", np.zeros((3, 4, 4, 3), np.uint8), 16.0)
    g = Graph("/E", registry=default_registry(), base_dir=tmp_path)
    g.add_node("video", "worldgraph.io.LoadVideo", values={"path": "tiny.mp4"})
    g.add_node("depth", "worldgraph.controls.EstimateDepth", values={"backend": "torch"})
    g.connect("video", "video", "depth", "video")
    [failure] = Executor().run(g, tmp_path / "out").failures
    assert failure.path == "/E/depth" and "too small" in failure.message
