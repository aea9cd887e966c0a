"""Synthetic datasets on disk: one folder per clip and a manifest, safe to kill at any time.

    <root>/manifest.jsonl          one line per finished clip, with a sha256 per file
    <root>/clips/000000/rgb.mp4    real style      rgb_plain.mp4  plain style
                        depth.npy  float16 metres (0: nothing hit)
                        segmentation.npy  uint16 ids   segmentation.json  id -> prim path
                        camera.json   intrinsics, world-from-camera per frame
                        actions.npy   kinematic bodies' velocities, when there are any
                        prompt.txt    metadata.json   scene.usda (animated)

A clip is made in a temporary folder that is renamed into place when complete, and its
manifest line is written after that: a reader trusts only clips in the manifest, and a
re-run removes anything else and makes what is missing, so a killed run loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..confine import OutputRoot, OutputRootError
from ..media.files import atomic_output, sha256
from ..media.video import write_video
from .export import export_usd
from .integrity import check, read_records
from .pipeline import Clip, ClipSettings, make_clip
from .randomize import RandomizeConfig, random_scene
from .scene import SceneError
from .simulate import SimulationDiverged

MANIFEST, CLIPS = "manifest.jsonl", "clips"
RESEEDS = 3  # a randomized scene that blows up is drawn again, this many times at most


class DatasetError(Exception):
    """The dataset cannot be written (e.g. a read-only folder); the message names it."""


def item_seed(seed: int, index: int, attempt: int = 0) -> int:
    digest = hashlib.sha256(f"{seed}:{index}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@dataclass(frozen=True)
class SceneSet:
    """Scenes to simulate: USD files as they are, or ``count`` randomized from a seed."""

    files: tuple[Path, ...] = ()
    randomize: RandomizeConfig | None = None
    seed: int = 0
    count: int = 0

    def __len__(self) -> int:
        return self.count if self.randomize else len(self.files)

    def scene(self, index: int, workdir: Path, attempt: int = 0) -> tuple[Path, int]:
        """(the scene file for ``index``, its seed)."""
        if self.randomize is None:
            return self.files[index], item_seed(self.seed, index)
        s = item_seed(self.seed, index, attempt)
        return random_scene(workdir / "source.usda", s, self.randomize), s


@dataclass(frozen=True)
class ClipJobs:
    """Everything needed to make clip ``i`` anywhere, in any process: picklable."""

    scenes: SceneSet
    settings: ClipSettings = field(default_factory=ClipSettings)

    def __len__(self) -> int:
        return len(self.scenes)

    def make(self, index: int, workdir: Path, progress: Any = None) -> tuple[Clip, int]:
        """(clip ``index``, the seed it was made with); randomized scenes that diverge are
        drawn again with the next seed."""
        for attempt in range(RESEEDS if self.scenes.randomize else 1):
            file, seed = self.scenes.scene(index, workdir, attempt)
            try:
                return make_clip(file, self.settings, seed, progress), seed
            except SimulationDiverged:
                if attempt == RESEEDS - 1 or not self.scenes.randomize:
                    raise
        raise AssertionError("unreachable")


@dataclass
class DatasetReport:
    root: Path
    made: list[str]
    kept: list[str]  # already finished by an earlier run
    failed: dict[str, str]  # clip id -> why


def write_dataset(
    jobs: ClipJobs,
    root: Path,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    versions: dict[str, str] | None = None,
) -> DatasetReport:
    """Make every clip of ``jobs`` under ``root`` that is not already there. Nothing is
    written or removed outside ``root`` (``engines.confine``), and one run at a time writes
    there: a second fails at once instead of removing the first one's temporary clips."""
    box = OutputRoot(root)
    try:
        with box.exclusive():
            return _write(jobs, box, root, workers, progress, versions or {})
    except OutputRootError as e:
        raise DatasetError(str(e)) from None
    except OSError as e:
        raise DatasetError(f"cannot write the dataset in {root}: {e.strerror or e}") from None


def _write(
    jobs: ClipJobs,
    box: OutputRoot,
    root: Path,
    workers: int,
    progress: Callable[[int, int], None] | None,
    versions: dict[str, str],
) -> DatasetReport:
    clips = _prepare(box)
    _sort_manifest(root)  # drops a line torn by a kill, so appends start on a fresh line
    done = {record["id"] for record in read_manifest(root)}
    for entry in clips.iterdir():
        if entry.name in done:
            box.path(entry)  # a finished clip that is a link out of the dataset is refused
        else:
            box.remove(entry)  # half-made or never recorded: made again (a link: only the link goes)
    todo = [i for i in range(len(jobs)) if clip_id(i) not in done]
    report = DatasetReport(root, [], sorted(done), {})
    total, finished = len(jobs), len(done)
    if progress:
        progress(finished, total)
    with box.path(MANIFEST).open("a", encoding="utf-8") as manifest:
        for index, record in _run(jobs, todo, box, workers, versions):
            if "error" in record:
                report.failed[clip_id(index)] = record["error"]
            else:
                manifest.write(json.dumps(record, sort_keys=True) + "\n")
                manifest.flush()
                os.fsync(manifest.fileno())
                report.made.append(record["id"])
            finished += 1
            if progress:
                progress(finished, total)
    _sort_manifest(root)
    report.made.sort()
    return report


def clip_id(index: int) -> str:
    return f"{index:06d}"


def read_manifest(root: Path) -> list[dict[str, Any]]:
    """The finished clips, for readers: a torn last line (a run killed mid-write), a
    malformed line, an id that is not a plain name and a clip whose folder is missing are
    skipped. ``verify`` reports each of them instead."""
    return read_records(root)


def verify(root: Path) -> list[str]:
    """Every problem with a dataset, a batch output or a curated folder (``integrity``):
    malformed manifest lines, foreign paths, missing clips or files, checksums that differ."""
    return check(root).problems


def _prepare(box: OutputRoot) -> Path:
    """The clips folder, checked and made; what a killed run left removed (never through a link)."""
    clips = box.folder(CLIPS)
    box.path(MANIFEST)  # a manifest that is a link out of the dataset is refused, not read
    with tempfile.NamedTemporaryFile(dir=box.root, prefix=".probe"):
        pass
    for stale in box.root.glob(".manifest.*"):
        box.remove(stale)
    for stale in clips.glob(".*"):  # temporary folders of a run that was killed
        box.remove(stale)
    return clips


def _run(
    jobs: ClipJobs, todo: list[int], box: OutputRoot, workers: int, versions: dict[str, str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    args = [(jobs, i, box, versions) for i in todo]
    if workers <= 1 or len(todo) <= 1:
        for a in args:
            yield a[1], _make_item(a)
        return
    # spawn: a forked child would share the parent's GL and USD state; a pool of futures
    # (unlike multiprocessing.Pool) reports a worker that died instead of waiting forever
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
        futures = {pool.submit(_make_item, a): a[1] for a in args}
        try:
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except BrokenProcessPool as e:
                    raise DatasetError(f"a worker process died while making clips: {e}") from None
        finally:
            for future in futures:
                future.cancel()


def _make_item(args: tuple[ClipJobs, int, OutputRoot, dict[str, str]]) -> dict[str, Any]:
    jobs, index, box, versions = args
    name = clip_id(index)
    clips = box.path(CLIPS)  # checked again here: a link swapped in since stops the run
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=clips))
    source = Path(tempfile.mkdtemp(prefix=f".{name}.source.", dir=clips))  # a randomized scene
    try:
        clip, seed = jobs.make(index, source)
        files = write_clip(work, clip, {"id": name, "index": index, "seed": seed,
                                         "settings": asdict(jobs.settings), "versions": versions})
        os.chmod(work, 0o755)  # mkdtemp makes folders private
        os.replace(work, clips / name)
        return {"id": name, "seed": seed, "caption": clip.caption, "frames": clip.trajectory.frames,
                "fps": clip.trajectory.fps, "files": files}
    except Exception as e:  # one bad clip must not stop the others
        return {"error": str(e) if isinstance(e, SceneError) else f"{type(e).__name__}: {e}"}
    finally:
        box.remove(work, ignore_errors=True)
        box.remove(source, ignore_errors=True)


def write_clip(folder: Path, clip: Clip, meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Write one clip's files into ``folder``; returns name -> {sha256, bytes}."""
    r = clip.render
    if "real" in r.rgb:
        write_video(folder / "rgb.mp4", r.rgb["real"], r.fps)
    if "plain" in r.rgb:
        write_video(folder / "rgb_plain.mp4", r.rgb["plain"], r.fps)
    np.save(folder / "depth.npy", r.depth.astype(np.float16))
    np.save(folder / "segmentation.npy", r.segmentation)
    _write_json(folder / "segmentation.json", {str(k): v for k, v in r.segment_paths.items()})
    height, width = r.depth.shape[1:]
    _write_json(folder / "camera.json", {
        "convention": "world_from_camera; the camera looks down -Z with +Y up (USD / OpenGL)",
        "width": width, "height": height, "fps": r.fps,
        "intrinsics": r.intrinsics.round(6).tolist(),
        "world_from_camera": r.extrinsics.round(6).tolist(),
    })
    if clip.trajectory.actions.size:
        np.save(folder / "actions.npy", clip.trajectory.actions.astype(np.float32))
    (folder / "prompt.txt").write_text(clip.caption + "\n", encoding="utf-8")
    scene_file = clip.scene.file
    _write_json(folder / "metadata.json", meta | {
        "caption": clip.caption,
        "scene": scene_file.name if scene_file.name != "source.usda" else "randomized",
        "bodies": [asdict(b) for b in clip.scene.bodies],
        "camera": clip.camera_path or "default",
        "camera_motion": asdict(clip.camera_motion),
        "frames": clip.trajectory.frames, "fps": clip.trajectory.fps,
        "hits": clip.trajectory.hits,
    })
    export_usd(clip, folder / "scene.usda")
    return {p.name: {"sha256": sha256(p), "bytes": p.stat().st_size} for p in sorted(folder.iterdir())}


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, default=_plain) + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _sort_manifest(root: Path) -> None:
    """Rewrite the manifest in clip order, so the same seed gives the same bytes."""
    records = sorted(read_manifest(root), key=lambda r: r["id"])
    lines = [json.dumps(r, sort_keys=True) for r in records]
    with atomic_output(root / MANIFEST) as tmp:
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def preview(root: Path, clips: int = 6, frames: int = 6, video: str = "rgb.mp4") -> np.ndarray:
    """A contact sheet of a dataset: a row per clip, ``frames`` evenly spaced frames each."""
    from ..media.imageops import contact_sheet
    from ..media.video import read_video

    rows = []
    for record in read_manifest(root)[:clips]:
        path = root / "clips" / record["id"] / video
        if path.exists():
            clip, _ = read_video(path)
            rows.append(clip[np.linspace(0, len(clip) - 1, frames).round().astype(int)])
    if not rows:
        raise DatasetError(f"{root}: no finished clips with {video} to show")
    return contact_sheet(np.concatenate(rows), columns=frames, max_frames=len(rows) * frames,
                         labels=False)
