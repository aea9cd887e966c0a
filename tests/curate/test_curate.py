"""Curation end to end: one run over good, filtered, duplicated and broken inputs, read
back through the dataset reader, the shards and the report; then the parts one by one."""

import json
import tarfile

import numpy as np
import pytest

from worldgraph.cli import main
from worldgraph.engines.curate import CurateConfig, CurateError, curate, filters, load_config, shots
from worldgraph.engines.curate.pipeline import split
from worldgraph.engines.media.video import read_video
from worldgraph.engines.sim.dataset import read_manifest, verify
from worldgraph.engines.tokenizer.train import ClipBank

from .conftest import FRAMES, sim_frames, with_text

BAD = {"not_a_video": "not a video", "no_frames": "no frames", "vfr": "variable frame rate",
       "one_frame": "1 frame", "audio_only": "no video stream", "huge": "megapixels"}


@pytest.fixture(scope="module")
def run(footage, tmp_path_factory):
    out = tmp_path_factory.mktemp("curated")
    logged: list[str] = []
    report = curate(list(footage.values()), out, CurateConfig(), log=logged.append)
    return report, out, logged, footage


def by_input(report, path):
    return [d for d in report.dropped if d["input"] == str(path.resolve())]


def test_bad_inputs_are_skipped_with_a_logged_reason_and_the_run_goes_on(run):
    report, out, logged, footage = run
    skipped = {s["input"]: s["reason"] for s in report.skipped}
    for name, words in BAD.items():
        reason = skipped.pop(str(footage[name].resolve()))
        assert words in reason, (name, reason)
        assert any(str(footage[name].resolve()) in line and words in line for line in logged), name
    assert not skipped, f"good inputs were skipped: {skipped}"
    assert len(report.clips) >= 5  # the run went on past them
    saved = json.loads((out / "report.json").read_text())
    assert {s["input"] for s in saved["skipped"]} == {str(footage[n].resolve()) for n in BAD}


def test_cuts_between_concatenated_scenes_are_found(run):
    report, _, _, footage = run
    [stitched] = [i for i in report.inputs if i["input"] == str(footage["stitched"].resolve())]
    assert stitched["cuts"] == [FRAMES, 2 * FRAMES] and stitched["shots"] == 3


def test_each_filter_drops_its_clip_with_the_measured_value(run):
    report, _, _, footage = run
    expect = {"static": ("motion", "motion_global"), "blurred": ("quality", "sharpness"),
              "black": ("quality", "black_fraction"), "text": ("text", "text_area")}
    for name, (kind, measure) in expect.items():
        drops = by_input(report, footage[name])
        assert drops and all(d["filter"] == kind and d["measure"] == measure for d in drops), (name, drops)
        for d in drops:
            assert isinstance(d["value"], float) and d["threshold"] == getattr(CurateConfig(), _setting(d))
    kept_sources = {c["source"] for c in report.clips}
    for name in ("stitched", "sample", "simclip"):
        assert str(footage[name].resolve()) in kept_sources, name


def _setting(drop):
    return {"motion_global": "min_motion", "sharpness": "min_sharpness", "black_fraction": "max_black_fraction",
            "text_area": "max_text_area"}[drop["measure"]]


def test_a_near_copy_is_dropped_as_a_duplicate_of_the_original(run):
    report, _, _, footage = run
    drops = by_input(report, footage["copy"])
    assert drops and all(d["filter"] == "dedup" and d["value"] >= 0.97 for d in drops)
    originals = {d["duplicate_of"] for d in drops}
    assert all(key.startswith("0000-000-") for key in originals)  # the stitched video's first shot
    kept_keys = {json.loads((run[1] / "clips" / c["id"] / "metadata.json").read_text())["key"]
                 for c in report.clips}
    assert originals <= kept_keys


def test_output_reads_back_through_the_dataset_reader(run):
    report, out, _, _ = run
    records = read_manifest(out)
    assert [r["id"] for r in records] == [c["id"] for c in report.clips]
    assert verify(out) == []
    bank = ClipBank(out)  # what `worldgraph train tokenizer --data` reads
    assert bank.videos.shape[0] == len(records) and tuple(bank.videos.shape[2:]) == (64, 64, 3)
    for r in records:
        frames, fps = read_video(out / "clips" / r["id"] / "rgb.mp4")
        assert frames.shape == (r["frames"], 64, 64, 3) and fps == 16.0
        assert (r["frames"] - 1) % 4 == 0  # 1 + 4k: the tokenizer's rule


def test_captions_come_from_simulator_metadata_or_are_flagged_empty(run, sim):
    report, out, _, footage = run
    sim_caption = json.loads((footage["simclip"].parent / "metadata.json").read_text())["caption"]
    for c in report.clips:
        prompt = (out / "clips" / c["id"] / "prompt.txt").read_text().strip()
        if c["source"] == str(footage["simclip"].resolve()):
            assert c["caption"] == prompt == sim_caption and c["caption_source"] == "simulator"
            assert not c["needs_caption"]
        else:
            assert c["caption"] == prompt == "" and c["needs_caption"] and c["caption_source"] == "none"


def test_shards_are_tar_files_grouped_by_resolution_and_length(run):
    report, out, _, _ = run
    assert report.shards
    seen = []
    for shard in report.shards:
        path = out / shard["path"]
        assert tarfile.is_tarfile(path)
        with tarfile.open(path) as tar:
            names = tar.getnames()
            keys = sorted({n.split(".")[0] for n in names})
            assert keys == shard["clips"]
            assert sorted(names) == sorted(f"{k}.{ext}" for k in keys for ext in ("json", "mp4", "txt"))
            for k in keys:
                meta = json.loads(tar.extractfile(f"{k}.json").read())
                assert shard["group"] == f"{meta['width']}x{meta['height']}_{meta['frames']}f"
                assert tar.extractfile(f"{k}.mp4").read() == (out / "clips" / k / "rgb.mp4").read_bytes()
        seen += keys
    assert sorted(seen) == [c["id"] for c in report.clips]
    assert len({s["group"] for s in report.shards}) == 2  # 17-frame clips and 13-frame leftovers


def test_nothing_is_written_outside_the_output_folder_and_no_temporary_files_stay(run):
    _, out, _, _ = run
    names = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert not [n for n in names if "/." in f"/{n}"]
    assert {n.split("/")[0] for n in names} == {"clips", "shards", "manifest.jsonl", "report.json"}


# ------------------------------------------------------------------------------- parts


def test_filters_keep_a_clean_moving_clip_and_drop_the_bad_variants(sim):
    clip = sim_frames(sim, 1)[:17]
    t = filters.Thresholds()
    assert filters.check(filters.measure(clip, t), t) is None
    half_frozen = clip.copy()
    half_frozen[:, :, :64] = clip[0, :, :64]
    m = filters.measure(half_frozen, t)
    strict = filters.Thresholds(min_patch_motion=0.0005)
    assert filters.check(m, t) is None  # the global mean still moves
    assert filters.check(m, strict)[:2] == ("motion", "motion_patch_min")
    bright = np.clip(clip.astype(int) * 4 + 120, 0, 255).astype(np.uint8)
    assert filters.check(filters.measure(bright, t), t)[:2] == ("quality", "brightness")
    assert filters.text_area(with_text(clip)) > t.max_text_area >= filters.text_area(clip)


def test_shot_detection_does_not_cut_a_single_moving_shot(sim):
    for i in range(4):
        assert shots.detect_cuts(sim_frames(sim, i)) == []


def test_split_keeps_leftovers_of_one_plus_four_k_frames():
    assert split(0, 40, 17, 9) == [(0, 17), (17, 34)]
    assert split(0, 44, 17, 9) == [(0, 17), (17, 34), (34, 43)]
    assert split(5, 12, 17, 9) == []


def test_settings_come_from_a_toml_file_and_bad_ones_name_the_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[curate]\nmin_motion = 0.01\nwidth = 128\n")
    assert load_config(good).min_motion == 0.01 and load_config(good).width == 128
    bad = tmp_path / "bad.toml"
    bad.write_text("min_motoin = 1\n")
    with pytest.raises(CurateError, match="bad.toml.*min_motoin"):
        load_config(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("clip_frames = 4\nmin_clip_frames = 9\n")
    with pytest.raises(CurateError, match="wrong.toml.*min_clip_frames"):
        load_config(wrong)


@pytest.mark.parametrize(("where", "text", "words"), [
    # nan passed every range check and silently switched the filter off
    ("set", "min_sharpness=nan", "--set: min_sharpness must be a finite number, got nan"),
    ("set", "max_brightness=inf", "--set: max_brightness must be a finite number, got inf"),
    ("set", "min_motion=1" + "0" * 400, "--set: min_motion must be a finite number, got inf"),
    ("set", "width=" + "[" * 100_000 + "]" * 100_000, "--set width: the value nests arrays too deeply"),
    ("file", "min_sharpness = nan", "c.toml: min_sharpness must be a finite number, got nan"),
    ("file", "[curate]\nmin_motion = -inf", "c.toml: min_motion must be a finite number, got -inf"),
    ("file", "x = " + "[" * 100_000 + "]" * 100_000, "c.toml: not valid TOML (arrays or tables nested too deeply)"),
])
def test_non_finite_or_deep_settings_exit_2_before_any_work(tmp_path, capsys, where, text, words):
    video = tmp_path / "in.mp4"
    video.write_bytes(b"not read: the settings are refused first")
    config = tmp_path / "c.toml"
    config.write_text(text + "\n")
    option = ["--set", text] if where == "set" else ["--config", str(config)]
    assert main(["curate", str(video), "--out", str(tmp_path / "out"), *option]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_cli_summary_and_exit_codes(footage, sim, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["curate", str(footage["sample"]), "--out", str(out), "--json", "--set", "dedup=false"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kept"] == len(read_manifest(out)) > 0 and summary["skipped"] == 0
    # every input bad: the run finishes, says why, and exits 1
    assert main(["curate", str(footage["not_a_video"]), str(footage["one_frame"]), "--out", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err
    assert "notes.mp4: not a video" in err and "one.mp4: 1 frame" in err
    # usage problems: 2
    assert main(["curate", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "o3")]) == 2
    assert "missing.mp4: no such file" in capsys.readouterr().err
    assert main(["curate", str(footage["sample"]), "--out", str(tmp_path / "o4"), "--set", "fps=-1"]) == 2
    assert main(["curate", str(footage["sample"]), "--out", str(sim)]) == 2  # another dataset: left alone
    assert "did not write" in capsys.readouterr().err and verify(sim) == []


def test_a_folder_curated_into_its_own_subfolder_twice_gives_the_same_clips(footage, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(footage["sample"].read_bytes())
    config = CurateConfig(dedup=False)
    first = curate([folder], folder / "curated", config)
    second = curate([folder], folder / "curated", config)  # the curated clips are not inputs
    assert len(second.inputs) == 1 and len(first.clips) == len(second.clips) > 0
    assert [c["files"] for c in first.clips] == [c["files"] for c in second.clips]  # same bytes again


def test_a_run_killed_before_its_report_can_be_run_again(footage, tmp_path):
    out = tmp_path / "out"
    config = CurateConfig(dedup=False)
    curate([footage["sample"]], out, config)
    (out / "report.json").unlink()  # as if killed between the manifest and the report
    again = curate([footage["sample"]], out, config)
    assert again.clips and read_manifest(out) == again.clips
