import shutil
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from worldgraph.engines.media.video import read_video, write_video
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, read_manifest, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig

from . import media

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "videos" / "bouncing_shapes.mp4"
FRAMES = 33


@pytest.fixture(scope="session")
def sim(tmp_path_factory) -> Path:
    """Four simulated 128x128 clips of 33 frames with an orbiting camera, and captions."""
    root = tmp_path_factory.mktemp("curate_sim")
    settings = ClipSettings(frames=FRAMES, width=128, height=128, styles=("real",), camera_motion="orbit",
                            camera_amount=25.0)
    report = write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=14, count=4), settings), root)
    assert not report.failed, report.failed
    return root


def sim_frames(sim: Path, i: int) -> np.ndarray:
    return read_video(sim / "clips" / read_manifest(sim)[i]["id"] / "rgb.mp4")[0]


def with_text(frames: np.ndarray) -> np.ndarray:
    out = frames.copy()
    for f in out:
        cv2.putText(f, "2024-05-01 12:00", (4, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA)
    return out


@pytest.fixture(scope="session")
def footage(sim, tmp_path_factory) -> dict[str, Path]:
    """Every kind of input one curation run meets, by name."""
    d = tmp_path_factory.mktemp("curate_in")
    a, b, c, d3 = (sim_frames(sim, i) for i in range(4))
    rng = np.random.default_rng(0)
    black = d3.copy()
    black[: FRAMES // 2] = 0
    files = {
        "stitched": write_video(d / "stitched.mp4", np.concatenate([a, b, c]), 16),  # cuts at 33 and 66
        "static": write_video(d / "static.mp4", np.repeat(d3[:1], FRAMES, axis=0), 16),
        "blurred": write_video(d / "blurred.mp4", np.stack([cv2.GaussianBlur(f, (0, 0), 3) for f in d3]), 16),
        "black": write_video(d / "black.mp4", black, 16),
        "text": write_video(d / "text.mp4", with_text(d3), 16),
        "copy": write_video(d / "copy.mp4", np.clip(a.astype(int) + 10, 0, 255).astype(np.uint8), 16, crf=28),
        "sample": Path(shutil.copy(SAMPLE, d / "bouncing_shapes.mp4")),
        "simclip": sim / "clips" / read_manifest(sim)[3]["id"] / "rgb.mp4",
        # bad inputs
        "not_a_video": d / "notes.mp4",
        "no_frames": media.no_frames(d / "empty.avi"),
        "vfr": media.h264(d / "vfr.mp4", rng.integers(0, 255, (20, 64, 64, 3), dtype=np.uint8),
                          pts=[i * 62 if i < 10 else 620 + (i - 10) * 100 for i in range(20)],
                          time_base=Fraction(1, 1000)),
        "one_frame": write_video(d / "one.mp4", a[:1], 16),
        "audio_only": media.audio_only(d / "tone.m4a"),
        "huge": media.h264(d / "huge.mp4", np.zeros((1, 4352, 8192, 3), np.uint8), preset="ultrafast"),
    }
    files["not_a_video"].write_text("these are notes, not a video\n")
    return files
