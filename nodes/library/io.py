"""worldgraph.io: videos in and out, and previews people can look at."""

from __future__ import annotations

from pathlib import Path

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import ASSET, BOOL, FILE, FLOAT, INT, OUTPUT_FILE, PROMPT, VIDEO, Prompt, Video


@node(
    "worldgraph.io.LoadVideo",
    inputs=[
        Input("path", ASSET, doc="an MP4 (or other ffmpeg video), one image, or a folder of images"),
        Input("max_frames", INT, 0, "keep only the first frames; 0 keeps all", range=(0, None)),
        Input("fps", FLOAT, 0.0, "override the frame rate; 0 uses the file's (24 for images)",
              range=(0, 240)),
    ],
    outputs=[Output("video", VIDEO, "the frames, RGB")],
)
def LoadVideo(ctx: Context, path: Path, max_frames: int, fps: float) -> dict[str, Video]:
    """Read a video file or an image sequence."""
    from worldgraph.engines.media.video import VideoError, read_video

    try:
        frames, rate = read_video(path, max_frames, fps)
    except VideoError as e:
        raise NodeError(str(e)) from None
    return {"video": Video(frames, rate)}


@node(
    "worldgraph.io.SaveVideo",
    inputs=[
        Input("video", VIDEO, doc="frames to write"),
        Input("path", OUTPUT_FILE, "video.mp4", "`name.mp4` for H.264, or a folder name for PNG frames"),
        Input("crf", INT, 18, "H.264 quality: 0 lossless, 18 visually lossless, 51 worst", range=(0, 51)),
    ],
    outputs=[Output("file", FILE, "the file or folder written")],
)
def SaveVideo(ctx: Context, video: Video, path: str, crf: int) -> dict[str, Path]:
    """Write a video as MP4 or as a PNG sequence, inside the output folder."""
    from worldgraph.engines.media.video import VideoError, write_video

    target = ctx.output_path(path)
    try:
        write_video(target, video.frames, video.fps, crf, ctx.progress)
    except VideoError as e:
        raise NodeError(str(e)) from None
    return {"file": target}


@node(
    "worldgraph.io.ContactSheet",
    inputs=[
        Input("video", VIDEO, doc="frames to show"),
        Input("path", OUTPUT_FILE, "contact_sheet.png", "PNG file to write"),
        Input("max_frames", INT, 16, "how many evenly spaced frames to show", range=(1, 256)),
        Input("columns", INT, 0, "grid columns; 0 picks a square-ish grid", range=(0, 64)),
        Input("labels", BOOL, True, "print each frame's index on it"),
    ],
    outputs=[Output("file", FILE, "the PNG written")],
)
def ContactSheet(
    ctx: Context, video: Video, path: str, max_frames: int, columns: int, labels: bool
) -> dict[str, Path]:
    """A PNG grid of frames: the quickest look at a clip."""
    from worldgraph.engines.media.imageops import contact_sheet
    from worldgraph.engines.media.video import write_png

    if not path.lower().endswith(".png"):
        raise NodeError(f"contact sheet path {path!r} must end in .png")
    target = ctx.output_path(path)
    write_png(target, contact_sheet(video.frames, columns, max_frames, labels))
    return {"file": target}


@node(
    "worldgraph.io.SaveText",
    inputs=[
        Input("prompt", PROMPT, doc="a prompt or caption"),
        Input("path", OUTPUT_FILE, "prompt.txt", "text file to write"),
    ],
    outputs=[Output("file", FILE, "the text file written")],
)
def SaveText(ctx: Context, prompt: Prompt, path: str) -> dict[str, Path]:
    """Write a prompt's text to a file (UTF-8, one trailing newline)."""
    from worldgraph.engines.media.files import atomic_output

    target = ctx.output_path(path)
    with atomic_output(target) as tmp:
        tmp.write_text(prompt.text.rstrip("\n") + "\n", encoding="utf-8")
    return {"file": target}


@node(
    "worldgraph.io.Trim",
    inputs=[
        Input("video", VIDEO, doc="the clip"),
        Input("start", INT, 0, "first frame kept", range=(0, None)),
        Input("count", INT, 1, "frames kept; 0 keeps the rest", range=(0, None)),
    ],
    outputs=[Output("video", VIDEO, "the kept frames")],
)
def Trim(ctx: Context, video: Video, start: int, count: int) -> dict[str, Video]:
    """Keep a range of frames, e.g. the first frame as a world model's condition."""
    total = video.frames.shape[0]
    if start >= total or (count and start + count > total):
        raise NodeError(f"frames {start}..{start + (count or total - start) - 1} asked of a {total}-frame clip")
    return {"video": Video(video.frames[start : start + count if count else None].copy(), video.fps)}


@node(
    "worldgraph.io.Resize",
    inputs=[
        Input("video", VIDEO, doc="the clip"),
        Input("width", INT, 64, "pixels; the shipped models were trained at 64x64", range=(8, 4096)),
        Input("height", INT, 64, "pixels", range=(8, 4096)),
    ],
    outputs=[Output("video", VIDEO, "the resized frames")],
)
def Resize(ctx: Context, video: Video, width: int, height: int) -> dict[str, Video]:
    """Scale every frame to a size a model takes (area averaging when shrinking)."""
    import cv2
    import numpy as np

    shrink = width * height < video.frames.shape[1] * video.frames.shape[2]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    frames = np.stack([cv2.resize(f, (width, height), interpolation=interpolation) for f in video.frames])
    return {"video": Video(frames, video.fps)}


@node(
    "worldgraph.io.Stack",
    inputs=[
        Input("top", VIDEO, doc="shown above, e.g. the truth"),
        Input("bottom", VIDEO, doc="shown below, e.g. a model's output"),
    ],
    outputs=[Output("video", VIDEO, "both clips in one frame, top over bottom")],
)
def Stack(ctx: Context, top: Video, bottom: Video) -> dict[str, Video]:
    """Put two clips one above the other to compare them frame by frame; the shorter one
    holds its last frame."""
    import numpy as np

    a, b = top.frames, bottom.frames
    if a.shape[2] != b.shape[2]:
        raise NodeError(f"clips of different widths ({a.shape[2]} and {b.shape[2]} pixels) cannot be stacked")
    n = max(len(a), len(b))

    def hold(v: np.ndarray) -> np.ndarray:
        return np.concatenate([v, np.repeat(v[-1:], n - len(v), axis=0)]) if len(v) < n else v

    return {"video": Video(np.concatenate([hold(a), hold(b)], axis=1), top.fps)}
