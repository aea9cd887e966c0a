"""What the ``worldgraph`` command modules share: exit codes and the evaluation progress
bar. A command module imports these from here, never from ``cli`` (which imports every
command module)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130


@contextlib.contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A bar on a terminal for an evaluation's stages: ``progress(stage, done, total)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("loading", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield progress
