"""One item, run in a worker process (a pool process or a Ray actor).

A worker lives for many items: the graph file is read once, and the models the nodes load
stay loaded (the engines keep them per process), so only the first item pays for them.
The item's graph runs into a temporary folder beside its final one; what the spec keeps
is checksummed and the folder is renamed into place. The manifest line is the caller's.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from .items import Item, Plan, apply, copy_graph

ITEM_RECORD = "batch_item.json"  # in each item's folder: what made it
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
LOW_SPACE = 64 << 10  # bytes free under which a failed item counts as a full disk
_templates: dict[str, Any] = {}  # graph sha -> the graph as read, once per process


def init_worker(threads: int, die_with_parent: bool) -> None:
    """Called once in each worker: threads per item, no Ctrl-C (the parent stops us), and
    (pool workers) no life after the parent: a killed batch leaves no orphans writing."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if die_with_parent and sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def run_item(plan: Plan, item: Item, clips: Path, attempt: int) -> dict[str, Any]:
    """Make ``item`` into ``clips/<id>``; a result dict: status ok | blocked | failed."""
    from worldgraph.engines.confine import remove_tree
    from worldgraph.nodes import Executor, GraphInvalid

    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    work: Path | None = None
    try:
        graph = copy_graph(_template(plan))
        apply(graph, plan, item)
        work = Path(tempfile.mkdtemp(prefix=f".{item.id}.", dir=clips))
        result = Executor().run(graph, work, seed=item.seed)
        if result.status == "failed":
            first = result.failures[0]
            return {"status": "failed", "error": first.message, "node": first.path, "type": first.type,
                    "inputs": first.inputs, "traceback": "\n".join(f.traceback for f in result.failures),
                    "disk_full": _mentions_full_disk(first.message, first.traceback) or _nearly_full(clips),
                    "worker": worker}
        if result.status == "cancelled":
            return {"status": "failed", "error": "cancelled", "worker": worker}
        _prune(work, result.outputs, plan.keep)
        _write_record(work / ITEM_RECORD, plan, item)
        files = _checksums(work)
        os.chmod(work, 0o755)  # mkdtemp makes folders private
        final = clips / item.id
        remove_tree(final)  # made by an attempt whose worker died before it could report (a link: only it)
        os.replace(work, final)
        work = None
        return {"status": result.status, "files": files, "blocked": result.blocked, "verdicts": result.verdicts,
                "worker": worker,
                "seconds": round(time.perf_counter() - start, 3)}
    except GraphInvalid as e:
        return {"status": "failed", "error": str(e), "worker": worker}
    except OSError as e:
        return {"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                "disk_full": e.errno in DISK_FULL or _nearly_full(clips), "worker": worker}
    except Exception as e:  # a bug or a bad value: this item's failure, not the batch's
        return {"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                "worker": worker}
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def _template(plan: Plan) -> Any:
    from worldgraph.nodes import load_graph

    if plan.graph_sha not in _templates:
        if hashlib.sha256(plan.graph.read_bytes()).hexdigest() != plan.graph_sha:
            raise RuntimeError(f"{plan.graph} changed since the batch started; rerun it with --resume")
        _templates[plan.graph_sha] = load_graph(plan.graph)
    return _templates[plan.graph_sha]


def _mentions_full_disk(*texts: str) -> bool:
    """Nodes report OSErrors as text; a full disk is still a full disk."""
    marks = [os.strerror(code) for code in DISK_FULL] + [f"[Errno {code}]" for code in DISK_FULL]
    return any(mark in text for text in texts for mark in marks)


def _nearly_full(folder: Path) -> bool:
    """Whether the disk under ``folder`` has (almost) no room left: some libraries report a
    failed write without its errno (libpng: "Write Error"), so a failed item checks."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    free, size = st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize
    return free < max(LOW_SPACE, min(size // 100, 256 << 20))


def _prune(work: Path, outputs: dict[str, dict[str, Any]], keep: tuple[tuple[str, str], ...]) -> None:
    """Remove every file that is not (inside) a kept output; nothing when keep is empty."""
    if not keep:
        return
    kept = [Path(outputs[node][name]).resolve() for node, name in keep
            if isinstance(outputs.get(node, {}).get(name), Path)]
    for path in sorted(work.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        resolved = path.resolve()
        if any(resolved == k or resolved.is_relative_to(k) for k in kept):
            continue
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        else:
            path.unlink()


def _write_record(path: Path, plan: Plan, item: Item) -> None:
    import worldgraph

    record = item.to_json() | {"graph": plan.graph.name, "graph_sha256": plan.graph_sha,
                               "worldgraph": worldgraph.__version__}
    path.write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")


def _checksums(work: Path) -> dict[str, dict[str, Any]]:
    from worldgraph.engines.media.files import sha256

    return {p.relative_to(work).as_posix(): {"sha256": sha256(p), "bytes": p.stat().st_size}
            for p in sorted(work.rglob("*")) if p.is_file()}
