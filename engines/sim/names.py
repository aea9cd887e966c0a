"""Names inside a folder: whether a manifest's name is a plain relative one and whether a
path, links followed, stays inside its folder. A leaf module: the manifest checker
(``integrity``) and the curated shards' checker (``curate.shards``) both use it."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


def plain_file(name: str, nested: bool = False) -> bool:
    """Whether ``name`` is a relative name that stays inside its folder (with ``nested``, a
    ``/``-separated path of plain parts)."""
    if not name or "\\" in name or "\0" in name or PurePosixPath(name).is_absolute():
        return False
    parts = name.split("/")
    return (nested or len(parts) == 1) and all(p not in ("", ".", "..") for p in parts)


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, links followed, stays inside ``root`` (links followed too)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))
