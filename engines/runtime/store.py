"""The engine cache: built files under a key made of everything that decides them
(checkpoint sha256, part, backend, precision, opset, shape profile, exporter versions).
An entry is trusted only when its record matches the key and every file's sha256 matches
the record; anything else is rebuilt, never used."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..media.files import sha256

RECORD = "entry.json"


class EngineError(RuntimeError):
    """An engine cannot be built, found or run; the message says what to do."""


def cache_root() -> Path:
    """``$WORLDGRAPH_ENGINE_CACHE``, else ``~/.cache/worldgraph/engines``."""
    env = os.environ.get("WORLDGRAPH_ENGINE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "worldgraph" / "engines"


@dataclass(frozen=True)
class EngineKey:
    part: str
    checkpoint_sha256: str
    backend: str  # onnx (ONNX Runtime's files) | tensorrt
    precision: str
    opset: int
    profile: str  # the part's axes: min/opt/max of every dynamic size
    code: str  # sha256 of the source of the network's modules
    versions: str  # torch / onnx / runtime versions the files were made with

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    @property
    def folder_name(self) -> str:
        return f"{self.part}-{self.backend}-{self.precision}-{self.digest()[:16]}"


def problem(entry: Path, key: EngineKey) -> str | None:
    """Why ``entry`` cannot be used for ``key``, or None when it can."""
    try:
        record = json.loads((entry / RECORD).read_text())
    except FileNotFoundError:
        return "no record (a build that did not finish)"
    except (OSError, ValueError) as e:
        return f"unreadable record ({e})"
    if not isinstance(record, dict) or record.get("key") != asdict(key):
        return "built for another checkpoint, precision or shape profile"
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        return "the record lists no files"
    for name, digest in files.items():
        path = entry / name
        if not path.is_file():
            return f"{name} is missing"
        if sha256(path) != digest:
            return f"{name} is corrupt or truncated (sha256 differs from the record)"
    return None


class EngineCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()

    def entries(self) -> list[tuple[Path, dict[str, object]]]:
        """Every entry with its record (an empty dict when it has none)."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            try:
                found.append((entry, json.loads((entry / RECORD).read_text())))
            except (OSError, ValueError):
                found.append((entry, {}))
        return found

    def get(
        self,
        key: EngineKey,
        build: Callable[[Path], list[Path]],
        notice: Callable[[str], None] | None = None,
    ) -> Path:
        """The folder of a valid entry for ``key``, built by ``build(folder)`` (which returns
        the files it wrote) when there is none or the one there is stale or corrupt."""
        entry = self.root / key.folder_name
        if entry.exists():
            why = problem(entry, key)
            if why is None:
                return entry
            if notice is not None:
                notice(f"rebuilding {entry.name}: {why}")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key.folder_name}-", dir=self.root))
        except OSError as e:
            raise EngineError(f"cannot write the engine cache at {self.root} ({e.strerror or e}): set "
                              f"WORLDGRAPH_ENGINE_CACHE to a writable folder") from None
        try:
            if notice is not None:
                notice(f"building {key.part} for {key.backend} {key.precision} (once; cached in {self.root})")
            files = build(staging)
            record = {"key": asdict(key), "files": {p.name: sha256(p) for p in files}}
            (staging / RECORD).write_text(json.dumps(record, indent=1) + "\n")
            if entry.exists():
                shutil.rmtree(entry)
            os.replace(staging, entry)  # whole entries appear at once
        except OSError as e:
            shutil.rmtree(staging, ignore_errors=True)
            if problem(entry, key) is None:  # another process built the same entry meanwhile
                return entry
            raise EngineError(f"cannot write the engine cache at {self.root} ({e.strerror or e}): set "
                              f"WORLDGRAPH_ENGINE_CACHE to a writable folder") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return entry
