"""Every path a writer writes or deletes, kept inside the folder it was given.

A writer (a node's outputs, a dataset, a curation, a batch) owns one folder: its root.
``OutputRoot.path`` resolves a path under the root one component at a time; a symbolic
link is followed only when where it points is inside the root too, at any depth, so no
link (dangling or not, made before a run or swapped in between two) carries a write out
of the root. ``remove`` follows no link at all: it reaches the parent from the root through
folder descriptors opened with ``O_NOFOLLOW``, removes a link itself (never what it points
to), and a folder with ``shutil.rmtree``, which follows no link inside it either.
``exclusive`` holds the root for one run at a time.

Writes still go through path names (encoders and USD take paths), so a link swapped in
while a run is writing is caught at the next check, not at the write itself; removal is
not fooled even then.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class OutputRootError(Exception):
    """A path would leave its output folder, or another run holds the folder; the message
    names the path."""


class OutputRoot:
    """The folder a writer may write in; paths given to it are relative to the folder, or
    absolute paths inside it (as returned by ``path``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.realpath(root))  # the root itself is the caller's choice

    def __repr__(self) -> str:
        return f"OutputRoot({str(self.root)!r})"

    def path(self, p: str | os.PathLike[str]) -> Path:
        """``p`` with every link along it resolved; refuses a link (dangling or not) whose
        target is outside the root, and a ``..`` that climbs out of it. Creates nothing."""
        here = self.root
        for name in self._parts(p):
            if name == "..":
                if here == self.root:
                    raise OutputRootError(f"{p} leaves the output folder {self.root}")
                here = here.parent
                continue
            step = here / name
            if step.is_symlink():
                target = Path(os.path.realpath(step))
                if target.is_symlink():
                    raise OutputRootError(f"{step} is a link that loops back on itself")
                if not target.is_relative_to(self.root):
                    missing = "" if os.path.lexists(target) else " (missing)"
                    raise OutputRootError(f"{step} is a link to {os.readlink(step)}{missing}, outside the "
                                          f"output folder {self.root}; remove the link or choose another folder")
                step = target
            here = step
        return here

    def folder(self, p: str | os.PathLike[str]) -> Path:
        """``path(p)``, created with its parents where missing (an OSError where it cannot be)."""
        target = self.path(p)
        target.mkdir(parents=True, exist_ok=True)
        return target

    def remove(self, p: str | os.PathLike[str], ignore_errors: bool = False) -> None:
        """Delete ``p`` (a file, a link or a folder with everything in it) without following
        any link; nothing when it is missing. With ``ignore_errors`` (clean-up in a
        ``finally``) nothing is raised, and still nothing outside the root is touched."""
        try:
            path = Path(p)
            if path.name in ("", ".", ".."):
                raise OutputRootError(f"{p}: names no entry of the output folder {self.root} to remove")
            with self._open_folder(self.path(path.parent)) as parent:  # the entry itself: not followed
                if parent is not None:
                    _remove_at(parent, path.name)
        except (OSError, OutputRootError):
            if not ignore_errors:
                raise

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the root for this run alone (created if missing): a lock on the folder
        itself, which the system drops when the process ends, however it ends. Another run
        on the same folder fails at once instead of removing this one's temporaries."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, _FOLDER)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputRootError(f"another run is writing {self.root}; wait for it to finish or "
                                      "choose another folder") from None
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the lock

    def _parts(self, p: str | os.PathLike[str]) -> tuple[str, ...]:
        path = Path(p)
        if path.is_absolute():
            if not path.is_relative_to(self.root):
                raise OutputRootError(f"{path} is not inside the output folder {self.root}")
            path = path.relative_to(self.root)
        return path.parts

    @contextlib.contextmanager
    def _open_folder(self, folder: Path) -> Iterator[int | None]:
        """A descriptor of ``folder`` (resolved, inside the root) reached from the root one
        component at a time with O_NOFOLLOW: a link swapped in meanwhile stops the walk.
        None when a component is missing."""
        fd = os.open(self.root, _FOLDER)
        try:
            for name in folder.relative_to(self.root).parts:
                try:
                    child = os.open(name, _FOLDER | os.O_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    os.close(fd)
                    fd = -1
                    break
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise OutputRootError(f"{folder}: {name} changed into a link or file while the run "
                                              "was writing; nothing was removed") from None
                    raise
                os.close(fd)
                fd = child
            yield fd if fd >= 0 else None
        finally:
            if fd >= 0:
                os.close(fd)


def remove_tree(path: Path) -> None:
    """Delete ``path`` (a file, a link or a folder with everything in it) without following
    a link in it or at it; nothing when it is missing. Not confined: for a writer's own
    temporaries, whose folder it already trusts."""
    try:
        parent = os.open(path.parent, _FOLDER)
    except FileNotFoundError:
        return
    try:
        _remove_at(parent, path.name)
    finally:
        os.close(parent)


def _remove_at(parent: int, name: str) -> None:
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(name, dir_fd=parent)  # descriptor-based: links inside are removed, not followed
    else:
        os.unlink(name, dir_fd=parent)
