"""What a node's compute gets besides its inputs: its seed, progress, cancel, output paths."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .errors import Cancelled, NodeError
from .events import Handler, NodeProgress


class CancelToken:
    """Set from any thread; the executor checks it between nodes, ``Context`` inside loops."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class Context:
    def __init__(
        self,
        path: str,
        seed: int | None,
        out_dir: Path,
        emit: Handler,
        cancel: CancelToken,
    ) -> None:
        self.path = path
        self._seed = seed
        self.out_dir = out_dir
        self._emit = emit
        self._cancel = cancel

    @property
    def seed(self) -> int:
        """This node's seed, derived from the graph seed and the node's path."""
        if self._seed is None:  # the cache key would not include it
            raise RuntimeError(f"{self.path}: a node that uses ctx.seed must be declared seeded=True")
        return self._seed

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def check_cancelled(self) -> None:
        if self._cancel.cancelled:
            raise Cancelled()

    def progress(self, value: int, maximum: int) -> None:
        """Report progress; also the place long loops stop when the run is cancelled."""
        self.check_cancelled()
        self._emit(NodeProgress(self.path, value, maximum))

    def output_path(self, relative: str) -> Path:
        """Where to write ``relative`` inside the output folder, its folder made; refuses to
        escape it, by ``..`` or through a link at any depth (``engines.confine``)."""
        from worldgraph.engines.confine import OutputRoot, OutputRootError

        box = OutputRoot(self.out_dir)
        if not relative or Path(relative).is_absolute() or os.path.normpath(relative).split(os.sep)[0] == "..":
            raise NodeError(f"output path {relative!r} must be a relative path inside {box.root}")
        try:
            target = box.path(relative)
        except OutputRootError as e:
            raise NodeError(f"output path {relative!r}: {e}") from None
        if target == box.root:
            raise NodeError(f"output path {relative!r} names the output folder itself")
        try:
            box.folder(target.parent)
        except OutputRootError as e:
            raise NodeError(f"output path {relative!r}: {e}") from None
        except OSError as e:
            raise NodeError(f"cannot create the folder {target.parent}: {e.strerror or e}") from None
        return target
