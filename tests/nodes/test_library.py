"""The built-in io and controls nodes, run through the executor on the sample video."""

import numpy as np
import pytest

from worldgraph.engines.media.video import read_video
from worldgraph.nodes import (
    CancelToken,
    Context,
    Executor,
    Graph,
    GraphEditError,
    GraphInvalid,
    NodeError,
    default_registry,
)
from worldgraph.nodes.types import Control


def graph(sample_video, **canny) -> Graph:
    g = Graph("/G", registry=default_registry(), base_dir=sample_video.parent)
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": sample_video.name, "max_frames": 9})
    g.add_node("canny", "worldgraph.controls.Canny", values=canny)
    g.add_node("blur", "worldgraph.controls.BilateralBlur", values={"preset": "high", "downscale": 8})
    g.add_node("save", "worldgraph.io.SaveVideo", values={"path": "clips/edges.mp4"})
    g.add_node("frames", "worldgraph.io.SaveVideo", values={"path": "vis_frames"})
    g.add_node("sheet", "worldgraph.io.ContactSheet", values={"max_frames": 4})
    g.connect("load", "video", "canny", "video")
    g.connect("load", "video", "blur", "video")
    g.connect("canny", "edges", "save", "video")
    g.connect("blur", "blurred", "frames", "video")
    g.connect("load", "video", "sheet", "video")
    return g


def test_sample_pipeline_writes_what_it_says(sample_video, tmp_path):
    result = Executor().run(graph(sample_video), tmp_path)
    assert result.status == "ok", result.failures
    edges = result.outputs["/G/canny"]["edges"]
    assert isinstance(edges, Control) and edges.kind == "edge" and edges.frames.shape[0] == 9
    assert result.outputs["/G/blur"]["blurred"].kind == "vis"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in result.files) == [
        "clips/edges.mp4", "contact_sheet.png", "vis_frames",
    ]
    frames, fps = read_video(tmp_path / "clips" / "edges.mp4")
    assert frames.shape == (9, 128, 128, 3) and fps == 24.0
    assert len(list((tmp_path / "vis_frames").glob("*.png"))) == 9


def test_canny_presets_change_the_edges(sample_video, tmp_path):
    low = Executor().run(graph(sample_video, preset="very_low"), tmp_path / "a")
    high = Executor().run(graph(sample_video, preset="very_high"), tmp_path / "b")
    count = lambda r: int((r.outputs["/G/canny"]["edges"].frames > 0).sum())  # noqa: E731
    assert count(low) > 2 * count(high) > 0


def test_custom_thresholds_must_be_ordered(sample_video, tmp_path):
    result = Executor().run(graph(sample_video, preset="custom", low=300, high=100), tmp_path)
    [failure] = result.failures
    assert failure.path == "/G/canny"
    assert "low threshold 300 must be below high threshold 100" in failure.message


@pytest.mark.parametrize("path", ["../escape.mp4", "/tmp/abs.mp4", "a/../../x.mp4"])
def test_outputs_never_escape_the_output_folder(sample_video, tmp_path, path):
    g = graph(sample_video)
    refused = "/G/save.inputs:path: output path .* (leaves the output folder|is absolute)"
    with pytest.raises(GraphEditError, match=refused):
        g.set_value("save", "path", path)
    g.node("save").values["path"] = path  # as a file loader puts it: validation refuses to run it
    out = tmp_path / "out"
    with pytest.raises(GraphInvalid, match=refused):
        Executor().run(g, out)
    assert not out.exists() and not (tmp_path / "escape.mp4").exists()
    ctx = Context("/G/save", None, out, lambda event: None, CancelToken())
    with pytest.raises(NodeError, match="must be a relative path inside"):
        ctx.output_path(path)  # and the writers' own check, for what validation cannot see


def test_loading_a_corrupt_video_fails_with_its_name(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 255, 4000, dtype=np.uint8).tobytes())
    g = Graph("/G", registry=default_registry(), base_dir=tmp_path)
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": "bad.mp4"})
    result = Executor().run(g, tmp_path / "out")
    assert f"{bad}: cannot decode as video" in result.failures[0].message


@pytest.mark.parametrize("target", ["clips/edges.mp4", "frames_out"])
def test_cancel_while_writing_leaves_no_partial_file(sample_video, tmp_path, target):
    from worldgraph.nodes import CancelToken
    from worldgraph.nodes import events as ev

    g = graph(sample_video)
    g.set_value("save", "path", target)
    cancel = CancelToken()

    def stop_midway(event):
        if isinstance(event, ev.NodeProgress) and event.path == "/G/save" and event.value == 4:
            cancel.cancel()

    result = Executor(handlers=[stop_midway]).run(g, tmp_path, cancel=cancel)
    assert result.status == "cancelled"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_resize_scales_every_frame_and_keeps_the_picture(sample_video, tmp_path):
    g = Graph("/G", registry=default_registry(), base_dir=sample_video.parent)
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": sample_video.name, "max_frames": 3})
    g.add_node("small", "worldgraph.io.Resize", values={"width": 64, "height": 32})
    g.connect("load", "video", "small", "video")
    result = Executor().run(g, tmp_path)
    big, small = result.outputs["/G/load"]["video"], result.outputs["/G/small"]["video"]
    assert small.frames.shape == (3, 32, 64, 3) and small.fps == big.fps
    # area averaging: each output pixel is the mean of a 4x2 block of the input
    block = big.frames[:, :4, :2].reshape(3, -1, 3).mean(1)
    assert np.abs(small.frames[:, 0, 0].astype(float) - block).max() <= 1
