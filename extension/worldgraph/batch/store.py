"""The batch output folder: what is finished is exactly what the manifest says.

    <out>/manifest.jsonl        one line per finished item (ok or blocked), sha256 per file
    <out>/clips/<item id>/      the item's outputs (``worldgraph verify <out>`` checks them)
    <out>/clips/.<item id>.*    an item being made: renamed into place when complete
    <out>/logs/<item id>.log    why an item failed: each attempt's node, error and traceback
    <out>/batch.json            the spec and graph this folder was made from
    <out>/.lock                 held while a batch writes here

An item's folder is renamed into place before its manifest line is written, so on
``--resume`` a folder without a line (a kill in between) is made again, temporary folders
are removed, and a torn last line is dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from worldgraph.engines.confine import OutputRoot, OutputRootError
from worldgraph.nodes import WorldgraphError

MANIFEST, CLIPS, LOGS, RECORD, LOCK = "manifest.jsonl", "clips", "logs", "batch.json", ".lock"


class StoreError(WorldgraphError):
    """The output folder cannot be used (locked, not writable, not a batch); names it."""


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.clips = root / CLIPS
        self.logs = root / LOGS
        self._box = OutputRoot(root)
        self._lock: Any = None
        self._manifest: Any = None

    def open(self, resume: bool, record: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Lock the folder, clean up after a killed run, and return the finished items by id.
        Nothing is written or removed outside the folder: a fixed name in it that is a link
        out of it is refused (``engines.confine``)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for name in (MANIFEST, RECORD, LOCK):
                self._box.path(name)
            self.clips = self._box.folder(CLIPS)
            self.logs = self._box.folder(LOGS)
            self._lock = (self.root / LOCK).open("a")
        except OutputRootError as e:
            raise StoreError(str(e)) from None
        except OSError as e:
            raise StoreError(f"cannot write the batch output in {self.root}: {e.strerror or e}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.close()
            raise StoreError(f"{self.root}: another batch is writing here") from None
        try:
            return self._clean(resume, record)
        except OutputRootError as e:
            self.close()
            raise StoreError(str(e)) from None
        except OSError as e:
            self.close()
            raise StoreError(f"cannot prepare the batch output in {self.root}: {e.strerror or e}") from None
        except BaseException:
            self.close()
            raise

    def _clean(self, resume: bool, record: dict[str, Any]) -> dict[str, dict[str, Any]]:
        finished = self._finished()
        leftovers = [p for p in self.clips.iterdir() if not p.name.startswith(".") and p.name not in finished]
        if not resume and (finished or leftovers):
            raise StoreError(f"{self.root} already holds a batch ({len(finished)} finished items): add --resume "
                             "to continue it, or choose another --out")
        for folder in self.clips.iterdir():  # temporary folders, and items never recorded
            if folder.name.startswith(".") or folder.name not in finished:
                self._box.remove(folder)  # a link: only the link goes
        self._rewrite(finished)  # drops a torn line, so appends start on a fresh line
        _atomic_text(self.root / RECORD, json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
        self._manifest = (self.root / MANIFEST).open("a", encoding="utf-8")
        return finished

    def add(self, line: dict[str, Any]) -> None:
        """Record a finished item (its folder is already in place): the last step of an item."""
        self._manifest.write(json.dumps(line, sort_keys=True) + "\n")
        self._manifest.flush()
        os.fsync(self._manifest.fileno())

    def discard(self, item_id: str) -> None:
        """Remove what a worker that died left of an item: its temporary folder, or a
        folder renamed into place whose manifest line was never written."""
        for path in self.clips.glob(f".{item_id}.*"):
            self._box.remove(path, ignore_errors=True)
        self._box.remove(self.clips / item_id, ignore_errors=True)

    def log_failure(self, item_id: str, attempt: int, failure: dict[str, Any]) -> Path:
        """Append an attempt's failure to the item's log; the log's path."""
        try:
            path = self._box.path(self.logs / f"{item_id}.log")
        except OutputRootError as e:  # appending would follow the link
            raise StoreError(str(e)) from None
        lines = [f"== attempt {attempt} at {time.strftime('%Y-%m-%d %H:%M:%S')} on {failure.get('worker', '?')}",
                 f"error: {failure['error']}"]
        if failure.get("node"):
            lines.append(f"node: {failure['node']} ({failure.get('type', '')})")
        for name, summary in (failure.get("inputs") or {}).items():
            lines.append(f"  input {name}: {summary}")
        if failure.get("traceback"):
            lines.append(failure["traceback"].rstrip())
        with path.open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n\n")
        return path

    def close(self) -> None:
        """Rewrite the manifest in id order (same sweep, same bytes) and unlock."""
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None
            with contextlib.suppress(OSError):  # a full disk: the appended manifest is still whole
                self._rewrite(self._finished())
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _finished(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in read_manifest(self.root)}

    def _rewrite(self, finished: dict[str, dict[str, Any]]) -> None:
        text = "".join(json.dumps(finished[k], sort_keys=True) + "\n" for k in sorted(finished))
        _atomic_text(self.root / MANIFEST, text)


def read_manifest(root: Path) -> list[dict[str, Any]]:
    """Finished items, once each, whose folder exists: the readers' lenient view
    (``engines.sim.integrity.read_records``; ``worldgraph verify`` is the strict one)."""
    from worldgraph.engines.sim.integrity import read_records

    return read_records(root)


def _atomic_text(path: Path, text: str) -> None:
    from worldgraph.engines.media.files import atomic_output

    with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
