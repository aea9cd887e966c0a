import numpy as np
import pytest

from worldgraph.engines.media.imageops import (
    BLUR_PRESETS,
    CANNY_PRESETS,
    bilateral_blur,
    canny,
    contact_sheet,
)
from worldgraph.engines.media.video import VideoError, read_video, write_png, write_video


def clip(t=6, h=33, w=47) -> np.ndarray:
    """A moving white square on a dark-red background: easy to check after a codec."""
    frames = np.zeros((t, h, w, 3), np.uint8)
    frames[..., 0] = 120
    for i in range(t):
        frames[i, 8:20, 4 + 3 * i : 16 + 3 * i] = 255
    return frames


def test_mp4_round_trip_keeps_frames_fps_and_odd_sizes(tmp_path):
    frames = clip()
    path = write_video(tmp_path / "clip.mp4", frames, 12.0, crf=0)
    back, fps = read_video(path)
    assert fps == 12.0
    assert back.shape == (6, 34, 48, 3)  # yuv420p pads odd sizes by one edge row/column
    err = np.abs(back[:, :33, :47].astype(int) - frames).mean()
    assert err < 3.0
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temp files left


def test_png_sequence_round_trip_is_exact(tmp_path):
    frames = clip()
    write_video(tmp_path / "frames", frames, 24.0)
    back, fps = read_video(tmp_path / "frames", fps=10)
    assert np.array_equal(back, frames) and fps == 10
    back, _ = read_video(tmp_path / "frames", max_frames=2)
    assert len(back) == 2


@pytest.mark.parametrize(
    "content, message",
    [(b"", "the file is empty"), (b"\x00\x01garbage" * 100, "cannot decode as video")],
)
def test_corrupt_videos_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match=message) as info:
        read_video(path)
    assert str(path) in str(info.value)


def test_truncated_mp4_is_refused_or_shortened(tmp_path):
    path = write_video(tmp_path / "clip.mp4", clip(t=12), 12.0)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoError, match="cut.mp4"):
        read_video(cut)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        read_video(tmp_path / "nope.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="holds no images"):
        read_video(tmp_path / "empty")


def test_unknown_output_format_is_refused(tmp_path):
    with pytest.raises(VideoError, match="unknown video format"):
        write_video(tmp_path / "x.xyz", clip(), 24.0)
    assert list(tmp_path.iterdir()) == []


def test_canny_presets_and_edges():
    assert CANNY_PRESETS["very_low"] == (20, 50) and CANNY_PRESETS["very_high"] == (300, 400)
    edges = canny(clip(), *CANNY_PRESETS["medium"])
    assert edges.shape == (6, 33, 47) and set(np.unique(edges)) <= {0, 255}
    assert edges[0, 8:20, 4].any() and not edges[0, 25:, :].any()  # edges at the square only
    with pytest.raises(ValueError, match="low < high"):
        canny(clip(), 200, 100)


def test_bilateral_blur_smooths_but_keeps_layout():
    assert BLUR_PRESETS["medium"] == (30, 150.0, 100.0)
    rng = np.random.default_rng(0)
    noisy = np.clip(clip().astype(int) + rng.normal(0, 20, clip().shape), 0, 255).astype(np.uint8)
    out = bilateral_blur(noisy, *BLUR_PRESETS["low"], downscale=4)
    assert out.shape == noisy.shape
    assert out[:, 25:, :, 0].std() < noisy[:, 25:, :, 0].std() / 2
    assert out[0, 12, 10].mean() > out[0, 28, 40].mean()  # the square is still the bright part


def test_contact_sheet_grid_and_png(tmp_path):
    sheet = contact_sheet(clip(t=10, h=32, w=32), max_frames=4)
    # 4 frames, upscaled x3 to 96 px, in a 2 x 2 grid with 2 px gaps
    assert sheet.shape == (2 * 98 + 2, 2 * 98 + 2, 3)
    path = write_png(tmp_path / "sheet.png", sheet)
    back, _ = read_video(path)
    assert np.array_equal(back[0], sheet)


def test_written_files_are_readable_by_others(tmp_path):
    import stat

    path = write_png(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044  # not mkstemp's private 0600
