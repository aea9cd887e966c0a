"""Opening one input file: refuse what cannot become clips, with a reason, and decode the
rest straight to the curation's frame rate and frame size.

Decoding streams frame by frame and keeps only the resized frames a clip needs, so a long
high-resolution file never sits in memory at its own size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


class Skip(Exception):
    """This input cannot be curated; the message says why (the run goes on)."""


@dataclass(frozen=True)
class Source:
    path: Path
    frames: np.ndarray  # uint8 [T, height, width, 3] at ``fps``
    fps: float  # the curation's rate
    source_fps: float
    source_size: tuple[int, int]  # (width, height) as stored
    source_frames: int  # frames decoded from the file

    @property
    def seconds(self) -> float:
        return self.source_frames / self.source_fps


def fit(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to cover ``width`` x ``height`` and crop the centre (no bars, no stretching)."""
    h, w = frame.shape[:2]
    scale = max(width / w, height / h)
    sw, sh = max(width, round(w * scale)), max(height, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (sw, sh), interpolation=interpolation)
    y, x = (sh - height) // 2, (sw - width) // 2
    return np.ascontiguousarray(resized[y : y + height, x : x + width])


def open_source(
    path: Path,
    fps: float,
    width: int,
    height: int,
    max_pixels: int,
    min_frames: int,
    vfr_tolerance: float = 0.25,
) -> Source:
    """Decode ``path`` at ``fps`` and ``width`` x ``height``, or raise ``Skip`` naming why:
    not a video, no video stream (audio only), no frames, too few frames, variable frame
    rate, or more than ``max_pixels`` per frame."""
    import av

    if not path.is_file():
        raise Skip("not a file")
    if path.stat().st_size == 0:
        raise Skip("empty file (0 bytes)")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise Skip(f"not a video: ffmpeg cannot open it ({getattr(e, 'strerror', None) or e})") from None
    with container:
        if not container.streams.video:
            kinds: list[str] = sorted({str(s.type) for s in container.streams}) or ["no streams"]
            raise Skip(f"no video stream (the file holds {', '.join(kinds)})")
        stream = container.streams.video[0]
        w, h = stream.codec_context.width, stream.codec_context.height
        if w * h > max_pixels:
            raise Skip(f"resolution {w}x{h} is {w * h / 1e6:.1f} megapixels, above the limit of "
                       f"{max_pixels / 1e6:.1f} (max_pixels)")
        if w <= 0 or h <= 0:
            raise Skip(f"the video stream has no frame size ({w}x{h})")
        times: list[float] = []
        kept: list[np.ndarray] = []
        tick, start = 0, 0.0
        base = stream.time_base
        try:
            for frame in container.decode(stream):
                t = float(frame.pts * base) if frame.pts is not None and base else len(times) / 24.0
                if not times:
                    start = t
                times.append(t)
                # every tick of the curation's clock up to this frame's time shows this frame
                picture = None
                while tick / fps <= t - start + 1e-6:
                    picture = fit(frame.to_ndarray(format="rgb24"), width, height) if picture is None else picture
                    kept.append(picture)
                    tick += 1
        except av.error.FFmpegError as e:
            raise Skip(f"decoding failed after {len(times)} frames ({e.strerror or e})") from None
    if not times:
        raise Skip("the video has no frames")
    rate = _constant_rate(times, vfr_tolerance)
    if len(kept) < min_frames:
        count = f"{len(times)} frame{'s' if len(times) != 1 else ''}"
        if len(kept) != len(times):
            count += f" ({len(kept)} at {fps:g} fps)"
        raise Skip(f"{count}: shorter than the {min_frames} frames a clip needs (min_clip_frames)")
    return Source(path, np.stack(kept), fps, rate, (w, h), len(times))


def _constant_rate(times: list[float], tolerance: float) -> float:
    """The file's frame rate, or ``Skip`` when frame intervals vary by more than
    ``tolerance`` of their median (variable frame rate)."""
    if len(times) < 2:
        return 24.0
    deltas = np.diff(np.sort(np.asarray(times)))
    median = float(np.median(deltas))
    if median <= 0:
        raise Skip("frames carry no usable timestamps (every frame at the same time)")
    spread = np.abs(deltas - median) / median
    if float(spread.max()) > tolerance:
        raise Skip(f"variable frame rate: frame intervals range from {deltas.min() * 1000:.1f} to "
                   f"{deltas.max() * 1000:.1f} ms (more than {tolerance:.0%} off the median "
                   f"{median * 1000:.1f} ms)")
    return 1.0 / median


def resample(frames: np.ndarray, source_fps: float, fps: float) -> np.ndarray:
    """Frames at ``fps`` from frames at ``source_fps``: each tick shows the first frame at or
    after it (the same rule as decoding with ``open_source``)."""
    ticks = int(np.floor((len(frames) - 1) / source_fps * fps + 1e-6)) + 1
    index = np.ceil(np.arange(ticks) / fps * source_fps - 1e-6).astype(int)
    return frames[np.clip(index, 0, len(frames) - 1)]
