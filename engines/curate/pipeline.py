"""The curation run: inputs -> shots -> clips -> filters -> dedup -> a dataset and shards.

    <out>/manifest.jsonl            one line per kept clip (the dataset format of
                                    ``worldgraph.engines.sim.dataset``: id, caption, frames,
                                    fps, files with sha256), so trainers read it as it is
    <out>/clips/000000/rgb.mp4      H.264 at the configured fps and size
                       metadata.json    source file, frame range, measurements, caption source
                       prompt.txt       the caption ("" when unknown)
    <out>/shards/64x64_17f/shard-000000.tar   webdataset shards by resolution and length
    <out>/report.json               every input (skipped ones with the reason), every dropped
                                    clip with the filter and the value that dropped it

Every file is written under a temporary name and renamed; nothing is written outside
``<out>``. A new run in the same folder replaces what an earlier curation wrote there.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..confine import OutputRoot, OutputRootError
from ..media.files import atomic_output, sha256
from ..media.video import write_video
from . import captions, filters, shards, shots
from . import dedup as semantic
from .source import Skip, fit, open_source

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".gif")
REPORT, MANIFEST, CLIPS, SHARDS = "report.json", "manifest.jsonl", "clips", "shards"
Progress = Callable[[str, int, int], None]  # (stage, done, total)
Log = Callable[[str], None]


class CurateError(Exception):
    """The run cannot start or cannot write its output; the message names the path."""


@dataclass(frozen=True)
class CurateConfig:
    # output clips
    fps: float = 16.0
    width: int = 64
    height: int = 64
    crf: int = 18
    clip_frames: int = 17  # a shot is cut into clips of this many frames
    min_clip_frames: int = 9  # a shorter leftover (or shot) is dropped as "length"
    trim_frames: int = 1  # frames dropped at each side of a cut (transition frames)
    analysis_width: int = 128  # shots and filters look at frames at least this wide
    # inputs
    max_pixels: int = 7680 * 4320  # larger frames are skipped (8K UHD is the limit)
    vfr_tolerance: float = 0.25  # frame intervals this far off their median: variable frame rate
    # shot detection
    shot_threshold: float = 0.2
    shot_ratio: float = 3.0
    min_shot_frames: int = 8
    # filters (see filters.Thresholds)
    min_motion: float = 0.001
    min_patch_motion: float = 0.0
    motion_patches: int = 4
    min_sharpness: float = 20.0
    min_brightness: float = 0.08
    max_brightness: float = 0.92
    black_level: float = 0.06
    max_black_fraction: float = 0.1
    max_text_area: float = 0.01
    # deduplication
    dedup: bool = True
    dedup_threshold: float = 0.97
    tokenizer: str = semantic.TOKENIZER
    # shards
    per_shard: int = 256

    def __post_init__(self) -> None:
        problems = []
        if not self.fps > 0:
            problems.append(f"fps must be > 0, got {self.fps}")
        if not (8 <= self.width <= 4096 and 8 <= self.height <= 4096):
            problems.append(f"width and height must be within 8..4096, got {self.width}x{self.height}")
        if not 2 <= self.min_clip_frames <= self.clip_frames:
            problems.append(f"need 2 <= min_clip_frames ({self.min_clip_frames}) <= clip_frames ({self.clip_frames})")
        if not 0 <= self.crf <= 51:
            problems.append(f"crf must be within 0..51, got {self.crf}")
        if not -1 <= self.dedup_threshold <= 1:
            problems.append(f"dedup_threshold is a cosine similarity (-1..1), got {self.dedup_threshold}")
        if self.per_shard < 1 or self.trim_frames < 0 or self.max_pixels < 1 or self.motion_patches < 1:
            problems.append("per_shard, max_pixels and motion_patches must be >= 1, trim_frames >= 0")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def thresholds(self) -> filters.Thresholds:
        names = {f.name for f in fields(filters.Thresholds)}
        return filters.Thresholds(**{k: v for k, v in asdict(self).items() if k in names})

    @property
    def analysis_size(self) -> tuple[int, int]:
        scale = max(1.0, self.analysis_width / self.width)
        return round(self.width * scale), round(self.height * scale)


def load_config(path: Path, **overrides: Any) -> CurateConfig:
    """A config from a TOML file (keys at the top or under ``[curate]``), then ``overrides``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CurateError(f"{path}: cannot read the config ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise CurateError(f"{path}: not valid TOML ({e})") from None
    except RecursionError:  # tomllib nests one Python call per bracket
        raise CurateError(f"{path}: not valid TOML (arrays or tables nested too deeply)") from None
    data = data.get("curate", data)
    known = {f.name: f for f in fields(CurateConfig)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise CurateError(f"{path}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(known)})")
    return make_config({**data, **overrides}, str(path))


def make_config(values: dict[str, Any], origin: str = "config") -> CurateConfig:
    defaults = CurateConfig()
    typed: dict[str, Any] = {}
    for name, value in values.items():
        want = type(getattr(defaults, name))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value) if abs(value) < 2**1023 else math.inf  # float() of a larger int overflows
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise CurateError(f"{origin}: {name} must be {want.__name__}, got {value!r}")
        if want is float and not math.isfinite(value):  # nan passes every range check: refuse it here
            raise CurateError(f"{origin}: {name} must be a finite number, got {value!r}")
        typed[name] = value
    try:
        return CurateConfig(**typed)
    except ValueError as e:
        raise CurateError(f"{origin}: {e}") from None


@dataclass
class CurateReport:
    out: Path
    inputs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    clips: list[dict[str, Any]] = field(default_factory=list)  # the manifest lines
    shards: list[dict[str, Any]] = field(default_factory=list)
    seconds_of_video: float = 0.0
    elapsed_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        by_filter: dict[str, int] = {}
        for d in self.dropped:
            by_filter[d["filter"]] = by_filter.get(d["filter"], 0) + 1
        minutes = self.elapsed_s / 60
        return {
            "out": str(self.out),
            "inputs": len(self.inputs),
            "skipped": len(self.skipped),
            "candidates": len(self.clips) + len(self.dropped),
            "dropped": by_filter,
            "kept": len(self.clips),
            "shards": len(self.shards),
            "uncaptioned": sum(1 for c in self.clips if c["needs_caption"]),
            "video_minutes": round(self.seconds_of_video / 60, 3),
            "elapsed_s": round(self.elapsed_s, 2),
            "video_minutes_per_minute": round(self.seconds_of_video / 60 / minutes, 2) if minutes else None,
        }


@dataclass
class _Candidate:
    key: str
    source: Path
    span: tuple[int, int]  # frames at the curation's fps
    staged: Path
    measures: dict[str, float]
    caption: str
    caption_source: str
    frames: int
    thumbnails: np.ndarray | None = None  # what dedup embeds


def expand_inputs(paths: Sequence[Path], out: Path | None = None) -> list[Path]:
    """Files as given; folders: a worldgraph dataset's clips, else their video files (never
    those inside ``out``, so a folder can be curated into a subfolder of itself)."""
    from ..sim.dataset import MANIFEST, read_manifest

    found: list[Path] = []
    for p in paths:
        if not p.exists():
            raise CurateError(f"{p}: no such file or folder")
        if p.is_file():
            found.append(p)
        elif (p / MANIFEST).is_file():
            found.extend(p / "clips" / r["id"] / "rgb.mp4" for r in read_manifest(p)
                         if (p / "clips" / r["id"] / "rgb.mp4").is_file())
        else:
            found.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES
                                and not (out and f.resolve().is_relative_to(out))))
    return found


def split(start: int, end: int, clip_frames: int, min_frames: int) -> list[tuple[int, int]]:
    """Clips of ``clip_frames`` from [start, end); a leftover of at least ``min_frames`` is
    kept, shortened to 1 + 4k frames (the tokenizer's rule)."""
    pieces = [(s, s + clip_frames) for s in range(start, end - clip_frames + 1, clip_frames)]
    rest = end - (pieces[-1][1] if pieces else start)
    if rest >= min_frames:
        length = 1 + 4 * ((rest - 1) // 4)
        if length >= min_frames:
            begin = pieces[-1][1] if pieces else start
            pieces.append((begin, begin + length))
    return pieces


def curate(
    inputs: Sequence[Path],
    out: Path,
    config: CurateConfig | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> CurateReport:
    """Curate ``inputs`` (files or folders) into ``out``; bad inputs are skipped and logged.
    Nothing is written or removed outside ``out`` (``engines.confine``), and one run at a
    time writes there: a second fails at once instead of removing the first one's clips."""
    cfg = config or CurateConfig()
    began = time.perf_counter()
    out = out.resolve()
    files = [f.resolve() for f in expand_inputs(inputs, out)]
    for f in files:
        if f.is_relative_to(out):
            raise CurateError(f"{f}: an input inside the output folder {out} would be replaced by the run")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CurateError(f"cannot create the output folder {out}: {e.strerror or e}") from None
    box = OutputRoot(out)
    try:
        with box.exclusive():
            return _curate(files, box, cfg, began, progress, log)
    except OutputRootError as e:
        raise CurateError(str(e)) from None


def _curate(
    files: list[Path], box: OutputRoot, cfg: CurateConfig, began: float, progress: Progress | None, log: Log | None
) -> CurateReport:
    out = box.root
    _prepare(box)
    report = CurateReport(out)
    say = log or (lambda _m: None)
    tick = progress or (lambda _s, _d, _t: None)
    staging = Path(tempfile.mkdtemp(prefix=".staging.", dir=out))
    try:
        candidates: list[_Candidate] = []
        for n, path in enumerate(files):
            tick(f"decode {path.name}", n, len(files))
            try:
                candidates += _one_source(n, path, cfg, staging, report, say)
            except OSError:
                raise  # our own output cannot be written: stop
            except Exception as e:  # a file that breaks a decoder or a filter must not stop the others
                _skip(report, path, f"failed while curating: {type(e).__name__}: {e}", say)
        tick("decode", len(files), len(files))
        if cfg.dedup:
            _deduplicate(candidates, cfg, report, tick)
        copies = {d["key"] for d in report.dropped if d["filter"] == "dedup"}
        kept = [c for c in candidates if c.key not in copies]
        _write_clips(kept, box, cfg, report, tick)
        _write_manifest(out, report.clips)
        tick("shards", 0, 1)
        report.shards = shards.write_shards(_shard_items(out, report.clips), box.folder(SHARDS), cfg.per_shard)
        tick("shards", 1, 1)
    except OSError as e:
        raise CurateError(f"cannot write the curated clips in {out}: {e.strerror or e}") from None
    finally:
        box.remove(staging, ignore_errors=True)
    report.elapsed_s = time.perf_counter() - began
    _write_json(out / REPORT, {"curate": 1, "config": asdict(cfg), "summary": report.summary(),
                               "inputs": report.inputs, "skipped": report.skipped, "dropped": report.dropped,
                               "clips": [c["id"] for c in report.clips], "shards": report.shards})
    return report


def _prepare(box: OutputRoot) -> None:
    """Clear what an earlier curation wrote in the output folder (and only that); a fixed
    name there that is a link out of the folder is refused, never followed."""
    out = box.root
    for name in (CLIPS, SHARDS, MANIFEST, REPORT):
        box.path(name)
    if (out / MANIFEST).exists() and not _curated(out):
        raise CurateError(f"{out} holds a dataset that `worldgraph curate` did not write; choose another --out")
    try:
        for name in (CLIPS, SHARDS, MANIFEST, REPORT):
            box.remove(name)
        for stale in out.glob(".staging.*"):
            box.remove(stale)
    except OSError as e:
        raise CurateError(f"cannot clear the earlier curation in {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise CurateError(f"cannot write in the output folder {out}")


def _curated(out: Path) -> bool:
    """Whether ``out`` holds an earlier curation (finished, or killed before its report)."""
    if (out / REPORT).exists():
        return True
    from ..sim.dataset import read_manifest

    records = read_manifest(out)
    return all("caption_source" in r for r in records)  # an empty manifest holds nothing to lose


def _one_source(
    n: int, path: Path, cfg: CurateConfig, staging: Path, report: CurateReport, say: Log
) -> list[_Candidate]:
    aw, ah = cfg.analysis_size
    try:
        src = open_source(path, cfg.fps, aw, ah, cfg.max_pixels, cfg.min_clip_frames, cfg.vfr_tolerance)
    except Skip as e:
        _skip(report, path, str(e), say)
        return []
    report.seconds_of_video += src.seconds
    cuts = shots.detect_cuts(src.frames, cfg.shot_threshold, cfg.shot_ratio, cfg.min_shot_frames)
    ranges = shots.shots(len(src.frames), cuts)
    report.inputs.append({"input": str(path), "status": "curated", "seconds": round(src.seconds, 3),
                          "source_fps": round(src.source_fps, 3), "source_size": list(src.source_size),
                          "frames": len(src.frames), "cuts": cuts, "shots": len(ranges)})
    caption, caption_source = captions.caption_for(path)
    thresholds = cfg.thresholds
    found = []
    for s, (a, b) in enumerate(ranges):
        a2 = a + (cfg.trim_frames if a > 0 else 0)
        b2 = b - (cfg.trim_frames if b < len(src.frames) else 0)
        pieces = split(a2, b2, cfg.clip_frames, cfg.min_clip_frames)
        where = {"input": str(path), "shot": s}
        if not pieces:
            report.dropped.append(where | {"frames": [a, b], "filter": "length", "measure": "frames",
                                           "value": max(0, b2 - a2), "threshold": cfg.min_clip_frames})
            continue
        for start, end in pieces:
            key = f"{n:04d}-{s:03d}-{start:06d}"
            frames = src.frames[start:end]
            measures = filters.measure(frames, thresholds)
            failed = filters.check(measures, thresholds)
            if failed:
                report.dropped.append(where | {"key": key, "frames": [start, end], "filter": failed.filter,
                                               "measure": failed.measure, "value": failed.value,
                                               "threshold": failed.threshold, "rule": failed.op})
                continue
            small = np.stack([fit(f, cfg.width, cfg.height) for f in frames])
            staged = write_video(staging / f"{key}.mp4", small, cfg.fps, cfg.crf)
            found.append(_Candidate(key, path, (start, end), staged, measures, caption, caption_source, len(small)))
            if cfg.dedup:
                found[-1].thumbnails = semantic.thumbnails(small)
    return found


def _skip(report: CurateReport, path: Path, reason: str, say: Log) -> None:
    report.inputs = [i for i in report.inputs if i["input"] != str(path)]
    report.dropped = [d for d in report.dropped if d["input"] != str(path)]
    report.skipped.append({"input": str(path), "reason": reason})
    report.inputs.append({"input": str(path), "status": "skipped", "reason": reason})
    say(f"skipped {path}: {reason}")


def _deduplicate(candidates: list[_Candidate], cfg: CurateConfig, report: CurateReport, tick: Progress) -> None:
    thumbs = [c.thumbnails for c in candidates if c.thumbnails is not None]
    assert len(thumbs) == len(candidates), "every candidate has thumbnails when dedup is on"
    embeddings: list[np.ndarray] = []
    for start in range(0, len(thumbs), 32):
        tick("dedup", start, len(thumbs))
        embeddings.extend(semantic.embed(thumbs[start : start + 32], cfg.tokenizer))
    copies = semantic.duplicates(embeddings, cfg.dedup_threshold)
    for i, (of, similarity) in sorted(copies.items()):
        c = candidates[i]
        report.dropped.append({"input": str(c.source), "key": c.key, "frames": list(c.span), "filter": "dedup",
                               "measure": "cosine", "value": round(similarity, 6), "threshold": cfg.dedup_threshold,
                               "duplicate_of": candidates[of].key})
    tick("dedup", len(thumbs), len(thumbs))


def _write_clips(
    kept: list[_Candidate], box: OutputRoot, cfg: CurateConfig, report: CurateReport, tick: Progress
) -> None:
    clips = box.folder(CLIPS)
    for n, c in enumerate(kept):
        tick("write", n, len(kept))
        cid = f"{n:06d}"
        work = Path(tempfile.mkdtemp(prefix=f".{cid}.", dir=clips))
        try:
            shutil.move(c.staged, work / "rgb.mp4")
            meta = {"id": cid, "key": c.key, "source": str(c.source), "source_frames": list(c.span),
                    "start_seconds": round(c.span[0] / cfg.fps, 4), "frames": c.frames, "fps": cfg.fps,
                    "width": cfg.width, "height": cfg.height, "caption": c.caption,
                    "caption_source": c.caption_source, "needs_caption": not c.caption, "measures": c.measures}
            _write_json(work / "metadata.json", meta)
            (work / "prompt.txt").write_text(c.caption + "\n", encoding="utf-8")
            files = {p.name: {"sha256": sha256(p), "bytes": p.stat().st_size} for p in sorted(work.iterdir())}
            os.chmod(work, 0o755)
            os.replace(work, clips / cid)
        finally:
            box.remove(work, ignore_errors=True)
        report.clips.append({k: meta[k] for k in ("id", "caption", "caption_source", "needs_caption", "frames",
                                                  "fps", "width", "height", "source", "source_frames")}
                            | {"files": files})
    tick("write", len(kept), len(kept))


def _write_manifest(out: Path, records: list[dict[str, Any]]) -> None:
    with atomic_output(out / "manifest.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records), encoding="utf-8")


def _shard_items(out: Path, records: list[dict[str, Any]]) -> list[shards.ShardItem]:
    return [shards.ShardItem(r["id"], out / "clips" / r["id"] / "rgb.mp4",
                             json.loads((out / "clips" / r["id"] / "metadata.json").read_text(encoding="utf-8")),
                             r["caption"], r["width"], r["height"], r["frames"]) for r in records]


def _write_json(path: Path, obj: Any) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
