"""Checking a folder against its manifest: the one strict checker behind ``worldgraph verify``.

Three layouts share the manifest format of ``dataset`` (one JSON object a line, an ``id``
naming ``clips/<id>/`` and ``files``: name -> {sha256, bytes}):

    dataset    <root>/manifest.jsonl, clips/<id>/<file>          (``write_dataset``)
    batch      the same plus batch.json; a file may be a path    (``worldgraph batch``)
               inside its item: ``dataset/clips/000000/rgb.mp4``
    curated    the same plus report.json and shards/ (tars), whose (``worldgraph curate``)
               members must match the clips (``curate.shards``)

Every line is parsed and every problem reported, not just the first: a line that is not
JSON, an ``id`` or ``files`` missing or of the wrong kind, an id or file name that is not
a plain relative name inside the folder (a "foreign path": ``..``, absolute, a separator
where none belongs, a link that leaves the folder), an id twice, a clip folder or file that
is missing, a checksum that differs. Readers (``read_records``) are lenient instead: they
skip what is not a finished, well-formed item, as a run killed mid-item leaves some.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..media.files import sha256
from .names import inside, plain_file

MANIFEST, CLIPS = "manifest.jsonl", "clips"
BATCH_RECORD = "batch.json"  # worldgraph.batch.store.RECORD: the spec a batch output was made from
CURATE_REPORT = "report.json"  # curate.pipeline.REPORT
LAYOUTS = ("dataset", "batch", "curated")


@dataclass
class Checked:
    """What ``check`` found: the layout, the well-formed records and every problem."""

    root: Path
    layout: str
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def layout_of(root: Path) -> str:
    if (root / BATCH_RECORD).is_file():
        return "batch"
    if (root / CURATE_REPORT).is_file() or (root / "shards").is_dir():
        return "curated"
    return "dataset"


def check(root: Path) -> Checked:
    """Check ``root`` (a folder with a manifest) in full, checksums included."""
    checked = Checked(root, layout_of(root))
    manifest = root / MANIFEST
    if not inside(manifest, root):
        checked.problems.append(f"{manifest}: foreign path: a link to {os.path.realpath(manifest)}, "
                                "outside the folder")
        return checked
    if inside(root / CLIPS, root):
        clips_ok = True
    else:
        checked.problems.append(f"{root / CLIPS}: foreign path: a link to {os.path.realpath(root / CLIPS)}, "
                                "outside the folder")
        clips_ok = False
    try:
        data = manifest.read_bytes()
    except OSError as e:
        checked.problems.append(f"{manifest}: unreadable: {e.strerror or e}")
        return checked
    seen: dict[str, int] = {}  # id -> its line
    nested = checked.layout == "batch"
    text = data.split(b"\n") if data else []
    for n, raw in enumerate(text[:-1] if data.endswith(b"\n") else text, start=1):
        torn = n == len(text) and bool(raw)  # the last line, with no newline after it
        record, said = parse_line(raw, torn, nested)
        checked.problems += [f"{manifest}: line {n}: {p}" for p in said]
        if record is None:
            continue
        if record["id"] in seen:
            checked.problems.append(f"{manifest}: line {n}: id {record['id']!r} again (first on line "
                                    f"{seen[record['id']]})")
            continue
        seen[record["id"]] = n
        checked.records.append(record)
        if clips_ok:
            checked.problems += _check_files(root, record, n)
    if checked.layout == "curated":
        from ..curate.shards import check_shards

        checked.problems += check_shards(root, root / CURATE_REPORT, checked.records)
    return checked


def parse_line(raw: bytes, torn: bool = False, nested: bool = False) -> tuple[dict[str, Any] | None, list[str]]:
    """(the record, or None when it names no clip and files; what is wrong with the line).
    A record keeps only its well-formed files, so the others are still checked."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, ["not UTF-8 text"]
    except json.JSONDecodeError as e:
        if not raw.strip():
            return None, ["an empty line"]
        why = "torn: a run was killed while writing it; run it again to finish" if torn else e.msg
        return None, [f"not JSON ({why})"]
    if not isinstance(record, dict):
        return None, ["not a JSON object"]
    problems: list[str] = []
    cid = record.get("id")
    if cid is None:
        problems.append("no 'id'")
    elif not isinstance(cid, str):
        problems.append("'id' is not a string")
    elif not plain_id(cid):
        problems.append(f"id {cid!r}: foreign path (an id is a plain folder name inside {CLIPS}/)")
    files = record.get("files")
    if files is None:
        problems.append("no 'files'")
    elif not isinstance(files, dict):
        problems.append("'files' is not a mapping")
    else:
        good = {}
        for name, info in files.items():
            if not plain_file(name, nested):
                where = "a relative path inside its item" if nested else "a plain name inside its clip folder"
                problems.append(f"file {name!r}: foreign path (a file is {where})")
            elif not (isinstance(info, dict) and isinstance(info.get("sha256"), str)):
                problems.append(f"file {name!r}: no sha256")
            else:
                good[name] = info
        if not problems:
            return record, []
        if isinstance(cid, str) and plain_id(cid):  # only some files are wrong: check the others
            return record | {"files": good}, problems
    return None, problems


def plain_id(name: str) -> bool:
    """Whether ``name`` is a folder name of its own: no separator, not hidden (temporary
    folders start with a dot), not ``.`` or ``..``."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in "/\\\0")


def read_records(root: Path) -> list[dict[str, Any]]:
    """The finished items, leniently: lines that are torn or malformed, ids that are not
    plain names, ids seen before and items whose folder is missing are skipped."""
    try:
        text = (root / MANIFEST).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    records: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        cid = record.get("id") if isinstance(record, dict) else None
        if isinstance(cid, str) and plain_id(cid) and isinstance(record.get("files"), dict) \
                and (root / CLIPS / cid).is_dir():
            records.setdefault(cid, record)
    return list(records.values())


def _check_files(root: Path, record: dict[str, Any], line: int) -> list[str]:
    where = f"(manifest.jsonl line {line})"
    clip = root / CLIPS / record["id"]
    if not inside(clip, root):
        return [f"{clip}: foreign path: a link to {os.path.realpath(clip)}, outside the folder {where}"]
    if not clip.exists():
        return [f"{clip}: missing {where}"]
    if not clip.is_dir():
        return [f"{clip}: not a folder {where}"]
    problems = []
    for name, info in record["files"].items():
        path = clip / name
        if not inside(path, root):
            problems.append(f"{path}: foreign path: a link to {os.path.realpath(path)}, outside the folder {where}")
        elif not path.exists():
            problems.append(f"{path}: missing {where}")
        elif not path.is_file():
            problems.append(f"{path}: not a file {where}")
        else:
            try:
                same = sha256(path) == info["sha256"]
            except OSError as e:
                problems.append(f"{path}: unreadable: {e.strerror or e} {where}")
                continue
            if not same:
                problems.append(f"{path}: checksum differs from the manifest (line {line})")
    return problems
