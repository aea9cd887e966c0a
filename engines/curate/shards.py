"""Webdataset-style tar shards, grouped by resolution and length.

    shards/<W>x<H>_<T>f/shard-000000.tar   members <key>.mp4, <key>.json, <key>.txt

Members of one clip sit next to each other under the same key (a webdataset sample);
keys hold no dots. A shard holds at most ``per_shard`` clips. Tar headers carry no time,
owner or mode of ours, so the same clips give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..media.files import atomic_output
from ..sim.names import inside, plain_file


@dataclass(frozen=True)
class ShardItem:
    key: str
    video: Path
    meta: dict[str, Any]
    caption: str
    width: int
    height: int
    frames: int

    @property
    def group(self) -> str:
        return f"{self.width}x{self.height}_{self.frames}f"


def write_shards(items: Iterable[ShardItem], folder: Path, per_shard: int = 256) -> list[dict[str, Any]]:
    """Write the shards; returns one {path (relative to ``folder``'s parent), group, clips} each."""
    groups: dict[str, list[ShardItem]] = {}
    for item in items:
        if "." in item.key:
            raise ValueError(f"shard key {item.key!r} must not contain a dot")
        groups.setdefault(item.group, []).append(item)
    written = []
    for group in sorted(groups):
        members = sorted(groups[group], key=lambda i: i.key)
        for n, start in enumerate(range(0, len(members), per_shard)):
            chunk = members[start : start + per_shard]
            path = folder / group / f"shard-{n:06d}.tar"
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(path) as tmp, tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
                for item in chunk:
                    _add(tar, f"{item.key}.mp4", item.video.read_bytes())
                    _add(tar, f"{item.key}.json", json.dumps(item.meta, sort_keys=True).encode())
                    _add(tar, f"{item.key}.txt", item.caption.encode())
            written.append({"path": path.relative_to(folder.parent).as_posix(), "group": group,
                            "clips": [i.key for i in chunk]})
    return written


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def check_shards(root: Path, report: Path, records: list[dict[str, Any]]) -> list[str]:
    """Problems with the shards ``report`` (the curation's report.json) lists: each a plain
    path under ``shards/`` that exists and stays inside ``root``, a tar whose members are
    plain ``<key>.mp4 / .json / .txt`` files of the clips it lists, the video and caption
    the same as the manifest's; every manifest clip in exactly one shard."""
    try:
        saved = json.loads(report.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{report}: missing: the curation did not finish; run it again"]
    except (OSError, ValueError) as e:
        return [f"{report}: unreadable ({e})"]
    listed = saved.get("shards") if isinstance(saved, dict) else None
    if not isinstance(listed, list):
        return [f"{report}: not a curation report (no list of shards)"]
    clips = {r["id"]: r for r in records}
    problems: list[str] = []
    placed: dict[str, Path] = {}  # clip id -> its shard
    known: set[str] = set()  # the listed shards, links resolved
    for n, entry in enumerate(listed):
        where = f"{report}: shards[{n}]"
        if not (isinstance(entry, dict) and isinstance(entry.get("path"), str) and isinstance(entry.get("clips"), list)
                and all(isinstance(k, str) for k in entry["clips"])):
            problems.append(f"{where}: not a shard entry (path and clips)")
            continue
        path = root / entry["path"]
        if not (plain_file(entry["path"], nested=True) and entry["path"].startswith("shards/") and inside(path, root)):
            problems.append(f"{where}: path {entry['path']!r}: foreign path (a shard is a file under shards/)")
            continue
        known.add(os.path.realpath(path))
        for key in entry["clips"]:
            if key not in clips:
                problems.append(f"{path}: clip {key}: no well-formed line in the manifest")
            elif key in placed:
                problems.append(f"{path}: clip {key}: also in {placed[key]}")
            placed.setdefault(key, path)
        problems += _check_tar(path, entry["clips"], clips)
    problems += [f"{root / 'clips' / key}: in no shard of {report.name}" for key in clips if key not in placed]
    problems += [f"{p}: a shard {report.name} does not list" for p in sorted((root / "shards").glob("*/*.tar"))
                 if os.path.realpath(p) not in known]
    return problems


def _check_tar(path: Path, keys: list[str], clips: dict[str, dict[str, Any]]) -> list[str]:
    if not path.exists():
        return [f"{path}: missing (report.json)"]
    problems: list[str] = []
    seen: set[str] = set()
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                problems += _check_member(path, tar, member, keys, clips, seen)
                seen.add(member.name)
    except (OSError, tarfile.TarError) as e:
        return [f"{path}: not a readable tar file ({e})"]
    for key in keys:
        problems += [f"{path}: clip {key}: no member {key}.{kind}" for kind in ("mp4", "json", "txt")
                     if f"{key}.{kind}" not in seen]
    return problems


def _check_member(path: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, keys: list[str],
                  clips: dict[str, dict[str, Any]], seen: set[str]) -> list[str]:
    name = member.name
    key, _, kind = name.partition(".")
    where = f"{path}: member {name!r}"
    if "/" in name or "\\" in name or not key or key.startswith("."):
        return [f"{where}: foreign path (a member is <key>.mp4, .json or .txt)"]
    if name in seen:
        return [f"{where}: twice"]
    if not member.isreg():
        return [f"{where}: not a plain file"]
    if key not in keys or kind not in ("mp4", "json", "txt"):
        return [f"{where}: not a file of the shard's clips"]
    record, data = clips.get(key), tar.extractfile(member)
    if record is None or data is None:
        return []
    if kind == "mp4":
        digest = hashlib.sha256()
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
        if digest.hexdigest() != record["files"].get("rgb.mp4", {}).get("sha256"):
            return [f"{where}: differs from clips/{key}/rgb.mp4 in the manifest"]
    elif kind == "txt":
        if data.read().decode("utf-8", "replace") != record.get("caption"):
            return [f"{where}: differs from the manifest's caption"]
    else:
        try:
            json.loads(data.read())
        except ValueError:
            return [f"{where}: not JSON"]
    return []
