"""Webdataset-style tar shards, grouped by resolution and length.

    shards/<W>x<H>_<T>f/shard-000000.tar   members <key>.mp4, <key>.json, <key>.txt

Members of one clip sit next to each other under the same key (a webdataset sample);
keys hold no dots. A shard holds at most ``per_shard`` clips. Tar headers carry no time,
owner or mode of ours, so the same clips give the same bytes.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..media.files import atomic_output


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
