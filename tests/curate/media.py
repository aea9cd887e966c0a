"""Small bad and good media files for the curation tests, made with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def h264(path: Path, frames: np.ndarray, pts: list[int] | None = None, time_base: Fraction = Fraction(1, 16),
         preset: str = "medium") -> Path:
    """Encode RGB frames with explicit timestamps (in ``time_base`` units)."""
    t, h, w, _ = frames.shape
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(1, 1) / time_base if pts is None else 1000)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        stream.options = {"preset": preset}
        for i, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts = i if pts is None else pts[i]
            picture.time_base = time_base
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    return path


def no_frames(path: Path) -> Path:
    """An AVI with an MPEG-4 video stream and not one frame in it (MP4, MOV and Matroska
    files without samples lose the track or the header, so they test something else)."""
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=16)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()  # the header, which a container with no packets would skip
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def audio_only(path: Path, seconds: float = 0.5) -> Path:
    """An MP4 (AAC) with a sine tone and no video stream."""
    rate = 44100
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        tone = np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate).astype(np.float32)
        for start in range(0, len(tone), 1024):
            chunk = tone[start : start + 1024]
            chunk = np.pad(chunk, (0, 1024 - len(chunk)))[None]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
