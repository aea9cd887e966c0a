"""worldgraph.curate: raw footage into training clips (shots, transcode, filters, dedup,
captions, shards). Every threshold is an input; see ``worldgraph.engines.curate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..context import Context
from ..errors import Blocked, NodeError
from ..schema import Input, Output, node
from ..types import ASSET, BOOL, DATASET, FILE, FLOAT, INT, OUTPUT_FILE, STRING, VIDEO, Dataset, Video

SHOT_INPUTS = [
    Input("shot_threshold", FLOAT, 0.2, "change score (0..1) a cut must reach", range=(0, 1)),
    Input("shot_ratio", FLOAT, 3.0, "and how many times the median score around it", range=(1, 100)),
    Input("min_shot_frames", INT, 8, "frames between two cuts at least", range=(1, None)),
]
FILTER_INPUTS = [
    Input("min_motion", FLOAT, 0.001, "motion: mean optical flow, frame widths per frame", range=(0, None)),
    Input("min_patch_motion", FLOAT, 0.0, "motion: smallest per-patch mean flow (0: off)", range=(0, None)),
    Input("motion_patches", INT, 4, "motion: patches per side for the per-patch minimum", range=(1, 64)),
    Input("min_sharpness", FLOAT, 20.0, "quality: variance of the Laplacian (blur)", range=(0, None)),
    Input("min_brightness", FLOAT, 0.08, "quality: mean luma at least (0..1)", range=(0, 1)),
    Input("max_brightness", FLOAT, 0.92, "quality: mean luma at most (0..1)", range=(0, 1)),
    Input("black_level", FLOAT, 0.06, "quality: a frame darker than this is black", range=(0, 1)),
    Input("max_black_fraction", FLOAT, 0.1, "quality: black frames at most (fraction)", range=(0, 1)),
    Input("max_text_area", FLOAT, 0.01, "overlay text: frame fraction covered by steady text", range=(0, 1)),
]


@node(
    "worldgraph.curate.Curate",
    inputs=[
        Input("source", ASSET, doc="a video file, a folder of videos, or a worldgraph dataset folder"),
        Input("path", OUTPUT_FILE, "curated", "output folder inside the output folder"),
        Input("fps", FLOAT, 16.0, "clips' frame rate", range=(1, 240)),
        Input("width", INT, 64, "clips' width (centre crop, no bars)", range=(8, 4096)),
        Input("height", INT, 64, "clips' height", range=(8, 4096)),
        Input("clip_frames", INT, 17, "shots are cut into clips of this many frames", range=(2, None)),
        Input("min_clip_frames", INT, 9, "shorter leftovers and shots are dropped", range=(2, None)),
        *SHOT_INPUTS,
        *FILTER_INPUTS,
        Input("dedup", BOOL, True, "drop near-copies (tokenizer-encoder embeddings)"),
        Input("dedup_threshold", FLOAT, 0.97, "cosine similarity that makes a copy", range=(-1, 1)),
        Input("per_shard", INT, 256, "clips per tar shard", range=(1, None)),
    ],
    outputs=[
        Output("dataset", DATASET, "the kept clips (clips/ + manifest.jsonl, readable by the trainers)"),
        Output("report", FILE, "report.json: skipped inputs, dropped clips with the value that dropped them"),
    ],
)
def Curate(  # noqa: PLR0913 - one input per threshold
    ctx: Context, source: Path, path: str, fps: float, width: int, height: int, clip_frames: int,
    min_clip_frames: int, shot_threshold: float, shot_ratio: float, min_shot_frames: int,
    min_motion: float, min_patch_motion: float, motion_patches: int, min_sharpness: float,
    min_brightness: float, max_brightness: float, black_level: float, max_black_fraction: float,
    max_text_area: float, dedup: bool, dedup_threshold: float, per_shard: int,
) -> dict[str, Any]:
    """Cut footage into shots and clips, transcode to H.264, filter on motion, quality and
    overlay text, drop near-copies, caption simulator clips, and write tar shards."""
    settings = {k: v for k, v in locals().items() if k not in ("ctx", "source", "path")}  # the thresholds
    from worldgraph.engines.curate import CurateError, curate
    from worldgraph.engines.curate.pipeline import REPORT, make_config

    root = ctx.output_path(path)
    try:
        config = make_config(settings, ctx.path)
        report = curate([Path(source)], root, config, lambda _stage, done, total: ctx.progress(done, total))
    except CurateError as e:
        raise NodeError(str(e)) from None
    if report.inputs and len(report.skipped) == len(report.inputs):
        raise NodeError(f"no input could be curated: {report.skipped[0]['input']}: {report.skipped[0]['reason']}"
                        + (f" (and {len(report.skipped) - 1} more)" if len(report.skipped) > 1 else ""))
    return {"dataset": Dataset(root, tuple(c["id"] for c in report.clips)), "report": root / REPORT}


@node(
    "worldgraph.curate.DetectShots",
    inputs=[Input("video", VIDEO, doc="a video that may hold several shots"), *SHOT_INPUTS,
            Input("shot", INT, 0, "which shot to pass on", range=(0, None))],
    outputs=[
        Output("video", VIDEO, "the chosen shot's frames"),
        Output("shots", INT, "how many shots were found"),
        Output("cuts", STRING, "the frames where shots start, as JSON"),
    ],
)
def DetectShots(ctx: Context, video: Video, shot_threshold: float, shot_ratio: float, min_shot_frames: int,
                shot: int) -> dict[str, Any]:
    """Find the cuts in a video (a content and histogram change detector) and pass one shot on."""
    from worldgraph.engines.curate import shots

    cuts = shots.detect_cuts(video.frames, shot_threshold, shot_ratio, min_shot_frames)
    ranges = shots.shots(len(video.frames), cuts)
    if shot >= len(ranges):
        raise NodeError(f"shot {shot} asked of a video with {len(ranges)} shot(s) (cuts at frames {cuts})")
    a, b = ranges[shot]
    return {"video": Video(video.frames[a:b].copy(), video.fps), "shots": len(ranges), "cuts": json.dumps(cuts)}


@node(
    "worldgraph.curate.Transcode",
    inputs=[
        Input("video", VIDEO, doc="the clip"),
        Input("fps", FLOAT, 16.0, "frame rate out (each tick shows the next frame)", range=(1, 240)),
        Input("width", INT, 64, "pixels (scaled to cover, centre cropped)", range=(8, 4096)),
        Input("height", INT, 64, "pixels", range=(8, 4096)),
    ],
    outputs=[Output("video", VIDEO, "the clip at the new rate and size")],
)
def Transcode(ctx: Context, video: Video, fps: float, width: int, height: int) -> dict[str, Video]:
    """Bring a clip to a fixed frame rate and frame size, as curation does (save it with
    io.SaveVideo for H.264)."""
    import numpy as np

    from worldgraph.engines.curate.source import fit, resample

    frames = resample(video.frames, video.fps, fps)
    return {"video": Video(np.stack([fit(f, width, height) for f in frames]), fps)}


@node(
    "worldgraph.curate.FilterClip",
    inputs=[Input("video", VIDEO, doc="a clip"), *FILTER_INPUTS],
    outputs=[
        Output("video", VIDEO, "the clip, when it passes every filter"),
        Output("measures", STRING, "every measurement, as JSON"),
    ],
)
def FilterClip(
    ctx: Context, video: Video, min_motion: float, min_patch_motion: float, motion_patches: int, min_sharpness: float,
    min_brightness: float, max_brightness: float, black_level: float, max_black_fraction: float,
    max_text_area: float,
) -> dict[str, Any]:
    """Measure motion, quality and overlay text; a clip that fails a filter stops the nodes
    that need it ("blocked: motion: motion_global 0.0001 < 0.001"), as a result."""
    from worldgraph.engines.curate import filters

    if len(video.frames) < 2:
        raise NodeError("a clip of 1 frame has no motion to measure: give FilterClip 2 frames or more")
    t = filters.Thresholds(min_motion, min_patch_motion, motion_patches, min_sharpness, min_brightness,
                           max_brightness, black_level, max_black_fraction, max_text_area)
    measures = filters.measure(video.frames, t)
    failed = filters.check(measures, t)
    if failed:
        raise Blocked(str(failed))
    return {"video": video, "measures": json.dumps(measures, sort_keys=True)}
