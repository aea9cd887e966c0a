"""worldgraph.controls: control videos for Transfer, made from a video, and where they hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..context import Context
from ..schema import Input, Output, node
from ..types import (
    ASSET,
    CONTROL,
    DEPTH,
    ENUM,
    FLOAT,
    INT,
    SEGMENTATION,
    STRING,
    VIDEO,
    WEIGHT_MAP,
    Control,
    Depth,
    Segmentation,
    Video,
)
from ..types import WeightMap as WeightMapData
from .backend import backend_input, engine_errors, part_engine

CANNY_CHOICES = ("very_low", "low", "medium", "high", "very_high", "custom")
BLUR_CHOICES = ("low", "medium", "high")


@node(
    "worldgraph.controls.Canny",
    inputs=[
        Input("video", VIDEO, doc="frames to find edges in"),
        Input("preset", ENUM, "medium", "thresholds as in Cosmos-Transfer1; custom uses low/high",
              choices=CANNY_CHOICES),
        Input("low", INT, 100, "lower hysteresis threshold (preset custom)", range=(0, 2000)),
        Input("high", INT, 200, "upper hysteresis threshold (preset custom)", range=(1, 2000)),
    ],
    outputs=[Output("edges", CONTROL, "white edges on black, kind 'edge'")],
)
def Canny(ctx: Context, video: Video, preset: str, low: int, high: int) -> dict[str, Control]:
    """Canny edge maps of every frame: the edge control of Transfer."""
    from worldgraph.engines.media.imageops import CANNY_PRESETS, canny

    from ..errors import NodeError

    low, high = CANNY_PRESETS.get(preset, (low, high))
    if low >= high:
        raise NodeError(f"low threshold {low} must be below high threshold {high}")
    edges = canny(video.frames, low, high, ctx.progress)
    return {"edges": Control(np.repeat(edges[..., None], 3, axis=-1), video.fps, kind="edge")}


@node(
    "worldgraph.controls.BilateralBlur",
    inputs=[
        Input("video", VIDEO, doc="frames to blur"),
        Input("preset", ENUM, "medium", "blur strength as in Cosmos-Transfer1", choices=BLUR_CHOICES),
        Input("downscale", INT, 4, "bicubic down-up factor after the blur; 1 keeps detail", range=(1, 16)),
    ],
    outputs=[Output("blurred", CONTROL, "the blurred video, kind 'vis'")],
)
def BilateralBlur(ctx: Context, video: Video, preset: str, downscale: int) -> dict[str, Control]:
    """Edge-preserving blur plus down-up sampling: the vis control of Transfer."""
    from worldgraph.engines.media.imageops import BLUR_PRESETS, bilateral_blur

    frames = bilateral_blur(video.frames, *BLUR_PRESETS[preset], downscale=downscale, progress=ctx.progress)
    return {"blurred": Control(frames, video.fps, kind="vis")}


@node(
    "worldgraph.controls.DepthVideo",
    inputs=[Input("depth", DEPTH, doc="depth in metres")],
    outputs=[Output("control", CONTROL, "near bright, far dark, nothing black; kind 'depth'")],
)
def DepthVideo(ctx: Context, depth: Depth) -> dict[str, Control]:
    """Depth as a video: inverse depth normalized over the clip, as depth controls look."""
    from worldgraph.engines.media.imageops import depth_to_grey

    grey = depth_to_grey(depth.metres)
    return {"control": Control(np.repeat(grey[..., None], 3, axis=-1), depth.fps, kind="depth")}


@node(
    "worldgraph.controls.SegmentationColors",
    inputs=[Input("segmentation", SEGMENTATION, doc="instance ids")],
    outputs=[Output("control", CONTROL, "a random colour per instance; kind 'seg'")],
    seeded=True,
)
def SegmentationColors(ctx: Context, segmentation: Segmentation) -> dict[str, Control]:
    """Instances in random, non-semantic colours (as Cosmos-Transfer1 colours its masks)."""
    from worldgraph.engines.media.imageops import segmentation_colours

    return {"control": Control(segmentation_colours(segmentation.ids, ctx.rng()), segmentation.fps, kind="seg")}


@node(
    "worldgraph.controls.EstimateDepth",
    inputs=[Input("video", VIDEO, doc="frames (any look: rendered, generated or filmed); sides of 8 or more"),
            backend_input()],
    outputs=[Output("depth", DEPTH, "estimated depth in metres (the scale the simulated scenes taught)")],
)
def EstimateDepth(ctx: Context, video: Video, backend: str) -> dict[str, Depth]:
    """Depth from RGB with the shipped estimator, for footage that comes without it."""
    return {"depth": Depth(_estimate("depth", video, backend), video.fps)}


@node(
    "worldgraph.controls.EstimateSegmentation",
    inputs=[Input("video", VIDEO, doc="frames (any look: rendered, generated or filmed); sides of 8 or more"),
            backend_input()],
    outputs=[Output("segmentation", SEGMENTATION,
                    "one id per class (floor, sphere, cube, cylinder, capsule, other) named /estimated/<class>")],
)
def EstimateSegmentation(ctx: Context, video: Video, backend: str) -> dict[str, Segmentation]:
    """Segmentation from RGB with the shipped estimator: classes, not instances (objects of
    one shape share an id), the same id in every frame."""
    from worldgraph.engines.estimate.api import as_segmentation

    ids, paths = as_segmentation(_estimate("seg", video, backend))
    return {"segmentation": Segmentation(ids, paths, video.fps)}


def _estimate(task: str, video: Video, backend: str) -> np.ndarray:
    from worldgraph.engines.estimate import api

    from ..errors import NodeError

    if task not in api.installed():
        raise NodeError(f"no {task} estimator is installed (estimate-{task}; see `worldgraph models list`); "
                        f"train one with: worldgraph train estimator --recipe estimate-{task} --data DATASET")
    try:
        engine = part_engine(api.part(task), backend)
        return api.depth(video.frames, engine) if task == "depth" else api.classes(video.frames, engine)
    except (api.EstimatorInputError, *engine_errors()) as e:
        raise NodeError(str(e)) from None


@node(
    "worldgraph.controls.LoadControl",
    inputs=[
        Input("path", ASSET, doc="a control video made elsewhere: an MP4, one image, or a folder of images"),
        Input("kind", ENUM, "depth", "what it shows", choices=("vis", "edge", "depth", "seg")),
        Input("max_frames", INT, 0, "keep only the first frames; 0 keeps all", range=(0, None)),
    ],
    outputs=[Output("control", CONTROL, "the video as a control of that kind")],
)
def LoadControl(ctx: Context, path: Path, kind: str, max_frames: int) -> dict[str, Control]:
    """Read a control video (depth from a sensor, masks from another tool) for Transfer."""
    from worldgraph.engines.media.video import VideoError, read_video

    from ..errors import NodeError

    try:
        frames, fps = read_video(path, max_frames)
    except VideoError as e:
        raise NodeError(str(e)) from None
    return {"control": Control(frames, fps, kind=kind)}


WEIGHT_MODES = ("uniform", "segmentation", "image")


@node(
    "worldgraph.controls.WeightMap",
    inputs=[
        Input("mode", ENUM, "uniform", "uniform; inside the prims of a segmentation; or a painted grey image",
              choices=WEIGHT_MODES),
        Input("value", FLOAT, 1.0, "weight everywhere (uniform), inside the prims, or where the image is white",
              range=(0, 10)),
        Input("outside", FLOAT, 0.0, "weight outside the prims / where the image is black", range=(0, 10)),
        Input("segmentation", SEGMENTATION, doc="instance ids (mode segmentation; sets the map's size)",
              optional=True),
        Input("prims", STRING, "", "prim paths (comma-separated) whose pixels get value; a path covers its children"),
        Input("image", ASSET, doc="a grey PNG/JPG painted white where the control should hold (mode image)",
              optional=True),
        Input("like", VIDEO, doc="a control video the map matches in frames and size (unless segmentation does)",
              optional=True),
        Input("ramp_start", FLOAT, 1.0, "multiplier at the first frame (a temporal ramp)", range=(0, 10)),
        Input("ramp_end", FLOAT, 1.0, "multiplier at the last frame", range=(0, 10)),
    ],
    outputs=[Output("map", WEIGHT_MAP, "per-pixel, per-frame control weights")],
)
def WeightMap(ctx: Context, mode: str, value: float, outside: float, segmentation: Segmentation | None,
              prims: str, image: Path | None, like: Video | None, ramp_start: float,
              ramp_end: float) -> dict[str, WeightMapData]:
    """Where and when a Transfer control should hold: uniform, inside some prims of a
    segmentation, or painted; times a linear ramp over the frames."""
    from ..errors import NodeError

    if segmentation is not None:
        shape = segmentation.ids.shape
    elif like is not None:
        shape = like.frames.shape[:3]
    else:
        raise NodeError("connect 'like' (a control video) or 'segmentation' so the map knows its frames and size")
    if mode == "uniform":
        weights = np.full(shape, value, np.float32)
    elif mode == "segmentation":
        if segmentation is None:
            raise NodeError("mode segmentation needs the 'segmentation' input")
        wanted = [p.strip().rstrip("/") for p in prims.split(",") if p.strip()]
        if not wanted:
            raise NodeError("mode segmentation needs 'prims': the prim paths whose pixels get the weight")
        ids = [i for i, path in segmentation.paths.items()
               if any(path == w or path.startswith(w + "/") for w in wanted)]
        if not ids:
            known = ", ".join(sorted(segmentation.paths.values()))
            raise NodeError(f"no instance in the segmentation is under {', '.join(wanted)}; instances: {known}")
        weights = np.where(np.isin(segmentation.ids, ids), value, outside).astype(np.float32)
    else:
        weights = _painted(image, shape, value, outside)
    ramp = np.linspace(ramp_start, ramp_end, shape[0], dtype=np.float32)[:, None, None]
    return {"map": WeightMapData(weights * ramp)}


def _painted(image: Path | None, shape: tuple[int, ...], value: float, outside: float) -> np.ndarray:
    import cv2

    from ..errors import NodeError

    if image is None:
        raise NodeError("mode image needs the 'image' input: a grey picture, white where the control holds")
    grey = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise NodeError(f"{image}: not an image OpenCV can read")
    t, h, w = shape
    if grey.shape != (h, w):
        grey = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)
    alpha = grey.astype(np.float32) / 255
    return np.broadcast_to(outside + (value - outside) * alpha, (t, h, w)).astype(np.float32)
