"""Reading and writing videos: MP4 (H.264) through PyAV, and PNG image sequences.

Frames are uint8 RGB arrays [T, H, W, 3] everywhere.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from .files import atomic_folder, atomic_output
from .imageops import Progress

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".gif")


class VideoError(Exception):
    """A video cannot be read or written; the message names the file and why."""


def read_video(path: Path, max_frames: int = 0, fps: float = 0.0) -> tuple[np.ndarray, float]:
    """(frames, fps) from a video file or a folder of images (sorted by name).

    ``max_frames`` > 0 keeps the first frames only; ``fps`` > 0 overrides the file's rate
    (an image folder has none of its own and defaults to 24).
    """
    if not path.exists():
        raise VideoError(f"{path}: no such file or folder")
    if path.is_dir():
        frames, file_fps = _read_image_folder(path, max_frames), 24.0
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        frames, file_fps = _read_image(path)[None], 24.0
    else:
        frames, file_fps = _read_video_file(path, max_frames)
    return frames, fps if fps > 0 else file_fps


def _read_video_file(path: Path, max_frames: int) -> tuple[np.ndarray, float]:
    import av

    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: the file has no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames and len(frames) == max_frames:
                    break
    except av.error.FFmpegError as e:
        raise VideoError(f"{path}: cannot decode as video ({e.strerror or e})") from None
    if not frames:
        raise VideoError(f"{path}: the video has no frames")
    return np.stack(frames), float(rate) if rate else 24.0


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise VideoError(f"{path}: cannot decode as an image")
    return np.ascontiguousarray(image[..., ::-1])  # BGR -> RGB


def _read_image_folder(path: Path, max_frames: int) -> np.ndarray:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise VideoError(f"{path}: the folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
    if max_frames:
        files = files[:max_frames]
    frames = [_read_image(f) for f in files]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise VideoError(f"{path}: the images differ in size ({sorted(shapes)})")
    return np.stack(frames)


def write_video(
    path: Path, frames: np.ndarray, fps: float, crf: int = 18, progress: Progress | None = None
) -> Path:
    """Write an H.264 MP4 (``.mp4``) or a folder of PNGs (any path without a video suffix).

    yuv420p needs even sizes: an odd width or height is padded by repeating the edge.
    """
    if path.suffix.lower() in VIDEO_SUFFIXES:
        _write_mp4(path, frames, fps, crf, progress)
    elif path.suffix:
        raise VideoError(
            f"{path}: unknown video format {path.suffix!r} (use .mp4, or a folder name for PNGs)"
        )
    else:
        with atomic_folder(path) as tmp:
            for i, frame in enumerate(frames):
                write_png(tmp / f"frame_{i:05d}.png", frame, atomic=False)
                if progress:
                    progress(i + 1, len(frames))
    return path


def _write_mp4(
    path: Path, frames: np.ndarray, fps: float, crf: int, progress: Progress | None
) -> None:
    import av

    t, h, w, _ = frames.shape
    padded = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    with atomic_output(path) as tmp, av.open(
        str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
    ) as container:
        rate = Fraction(fps).limit_denominator(1001)
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = w + w % 2, h + h % 2
        stream.pix_fmt = "yuv420p"
        # x264's lookahead (mb-tree) gave different bytes for the same frames from run to run;
        # without it, and on one thread, the same frames always make the same file
        x264 = "threads=1:lookahead-threads=1:rc-lookahead=0:no-mbtree=1"
        stream.options = {"crf": str(crf), "x264-params": x264}
        stream.time_base = 1 / rate
        for i, frame in enumerate(padded):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts = i  # explicit timestamps: x264's rate control reads them
            container.mux(stream.encode(picture))
            if progress:
                progress(i + 1, t)
        container.mux(stream.encode(None))  # flush the encoder


def write_png(path: Path, image: np.ndarray, atomic: bool = True) -> Path:
    """Write an RGB (or grey) uint8 image as PNG."""
    bgr = np.ascontiguousarray(image[..., ::-1]) if image.ndim == 3 else image
    if not atomic:
        # encode in memory and write with Python: cv2.imwrite reports a full disk only as
        # False (libpng "Write Error"), the write raises OSError with its errno (ENOSPC)
        ok, data = cv2.imencode(".png", bgr)
        if not ok:
            raise VideoError(f"{path}: cannot encode PNG")
        path.write_bytes(data.tobytes())
        return path
    with atomic_output(path) as tmp:
        write_png(tmp, image, atomic=False)
    return path
