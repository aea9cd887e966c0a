"""Content-signature cache of node outputs.

A node's key hashes its type, version, values (files by path, size and mtime), its seed
when it is seeded, and the keys of the nodes feeding it, so a change anywhere upstream
changes every key below it and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np


def signature(parts: dict[str, Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Path):
        try:
            st = value.stat()
            return ["file", str(value), st.st_size, st.st_mtime_ns]
        except OSError:
            return ["file", str(value), None]
    raise TypeError(f"cannot sign {type(value).__name__}")


def output_bytes(outputs: dict[str, Any]) -> int:
    """Rough size of a node's outputs: the arrays they hold."""
    total = 0
    for value in outputs.values():
        items = vars(value).values() if hasattr(value, "__dataclass_fields__") else [value]
        total += sum(v.nbytes for v in items if isinstance(v, np.ndarray))
    return total


class OutputCache:
    """An in-process LRU of node outputs under a memory budget."""

    def __init__(self, budget_bytes: int = 4 << 30) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._used = 0

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        outputs = entry[0]
        # a file a node wrote may have been deleted since: then the node must run again
        if any(isinstance(v, Path) and not v.exists() for v in outputs.values()):
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return outputs

    def put(self, key: str, outputs: dict[str, Any]) -> None:
        size = output_bytes(outputs)
        if size > self.budget_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (outputs, size)
        self._used += size
        while self._used > self.budget_bytes:
            self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        self._entries.clear()
        self._used = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        _, size = self._entries.pop(key)
        self._used -= size
