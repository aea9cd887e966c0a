"""worldgraph.controls: control videos for Transfer, made from a video."""

from __future__ import annotations

import numpy as np

from ..context import Context
from ..schema import Input, Output, node
from ..types import CONTROL, DEPTH, ENUM, INT, SEGMENTATION, VIDEO, Control, Depth, Segmentation, Video

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
    palette = ctx.rng().integers(40, 256, (int(segmentation.ids.max()) + 1, 3), dtype=np.uint8)
    palette[0] = 0  # background stays black
    return {"control": Control(palette[segmentation.ids], segmentation.fps, kind="seg")}
