"""The sweep spec: a TOML file saying which graph to run over which inputs.

    graph = "../graphs/sim_dataset.usda"     # relative to the spec file
    out = "out/sweeps/sim_dataset"           # output root (relative to the current folder)
    items = 8                                # default: the size of [sweep]
    seed = 0                                 # item seeds and random draws derive from it
    retries = 1                              # extra attempts for a failed item
    max_failures = "10%"                     # failure budget: a count, or a share of the items
    keep = ["write", "sheet.file"]           # nodes / outputs whose files each item keeps
    disconnect = ["guard.prompt"]            # connected inputs the sweep replaces by a value

    [set]                                    # the same value for every item
    "render.width" = 32
    [sweep]                                  # one value per item: lists, ranges, globs, JSONL
    combine = "product"                      # or "zip"
    "simulate.camera_motion" = ["static", "orbit"]
    "randomize.max_objects" = { range = [2, 5] }
    [random]                                 # drawn per item, seeded
    "simulate.camera_amount" = { uniform = [10, 45] }
    [resources]                              # per item (Ray): cpus, gpus
    cpus = 1

Parsing checks shapes and sizes; ``items.py`` checks names and values against the graph.
Every error names the spec file and the field. Numbers are finite (no nan or inf), a sweep
makes at most ``MAX_ITEMS`` (100,000) items (``items``, each ``range`` and the rows of
``[sweep]`` alike), ``retries`` is at most ``MAX_RETRIES`` (100), and the file is at most
``MAX_BYTES`` (16 MiB) of TOML.
"""

from __future__ import annotations

import glob
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldgraph.nodes import WorldgraphError

TOP_KEYS = {"graph", "out", "items", "seed", "retries", "max_failures", "keep", "disconnect",
            "set", "sweep", "random", "resources"}
SOURCE_KEYS = {"range", "glob", "jsonl"}
RANDOM_KEYS = {"uniform", "integers", "choice", "glob", "jsonl"}
RESOURCE_KEYS = {"cpus", "gpus"}
SEED = "seed"  # the graph seed, as an input name in [set], [sweep] or [random]
MAX_ITEMS = 100_000  # items per sweep: the rows of [sweep], each range, and `items`
MAX_RETRIES = 100
MAX_BYTES = 16 * 2**20  # the spec file


class SpecError(WorldgraphError):
    """The sweep spec is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Draw:
    """A seeded random distribution: uniform (floats), integers (inclusive), or a choice."""

    kind: str  # uniform | integers | choice
    args: tuple[Any, ...]


@dataclass(frozen=True)
class SweepSpec:
    file: Path
    graph: Path
    out: Path | None
    items: int | None
    seed: int
    retries: int
    max_failures: int | float  # a count, or a share of the items (float in [0, 1])
    keep: tuple[str, ...]
    disconnect: tuple[str, ...]
    fixed: dict[str, Any]
    axes: dict[str, list[Any]]
    combine: str
    draws: dict[str, Draw]
    cpus: float = 1.0
    gpus: float = 0.0
    text: str = field(default="", repr=False)  # the file as read, for the run record

    def budget(self, items: int) -> int:
        """How many items may fail before the run stops."""
        if isinstance(self.max_failures, float):
            return math.floor(self.max_failures * items)
        return self.max_failures


def load_spec(path: Path) -> SweepSpec:
    try:
        if (size := path.stat().st_size) > MAX_BYTES:
            raise SpecError(f"{path}: {size} bytes is more than a sweep spec may hold ({MAX_BYTES})")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(f"{path}: cannot read the sweep spec ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise SpecError(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:  # tomllib nests one Python call per bracket
        raise SpecError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    return parse_spec(data, path, text)


def parse_spec(data: dict[str, Any], path: Path, text: str = "") -> SweepSpec:
    where = _Where(path)
    if unknown := sorted(set(data) - TOP_KEYS):
        raise where.error(unknown[0], f"unknown key; the keys are {', '.join(sorted(TOP_KEYS))}")
    base = path.resolve().parent
    graph = data.get("graph")
    if not isinstance(graph, str) or not graph:
        raise where.error("graph", "required: the graph file, relative to the spec")
    graph_file = base / graph
    if not graph_file.is_file():
        raise where.error("graph", f"{graph_file} does not exist")
    out = data.get("out")
    if out is not None and (not isinstance(out, str) or not out):
        raise where.error("out", "must be a folder name (text)")
    items = _int(data, "items", where, None, low=1, high=MAX_ITEMS)
    retries = _int(data, "retries", where, 1, low=0, high=MAX_RETRIES)
    seed = _int(data, "seed", where, 0, low=0)
    assert retries is not None and seed is not None
    sweep = dict(_table(data, "sweep", where))
    combine = sweep.pop("combine", "product")
    if combine not in ("product", "zip"):
        raise where.error("sweep.combine", f"{combine!r}: use product or zip")
    axes = {key: _source(value, base, where.sub("sweep", key)) for key, value in sweep.items()}
    if combine == "zip" and len({len(v) for v in axes.values()}) > 1:
        sizes = ", ".join(f"{k}: {len(v)}" for k, v in axes.items())
        raise where.error("sweep", f"zip needs axes of one length, got {sizes}")
    rows = math.prod(len(v) for v in axes.values()) if combine == "product" else len(next(iter(axes.values()), []))
    if rows > MAX_ITEMS:
        sizes = " x ".join(str(len(v)) for v in axes.values())
        raise where.error("sweep", f"the product of its axes ({sizes}) is {rows} rows, more than {MAX_ITEMS}")
    if items is None and not axes:
        raise where.error("items", "required when there is no [sweep] to count the items")
    draws = {key: _draw(value, base, where.sub("random", key)) for key, value in _table(data, "random", where).items()}
    fixed = dict(_table(data, "set", where))
    for key, value in fixed.items():
        if isinstance(value, dict | list):
            raise where.error(f"set.{_quote(key)}", "a plain value (a list belongs in [sweep])")
    _no_overlap(where, {"set": fixed, "sweep": axes, "random": draws})
    resources = _table(data, "resources", where)
    if unknown := sorted(set(resources) - RESOURCE_KEYS):
        raise where.error(f"resources.{unknown[0]}", "unknown key; use cpus and gpus")
    cpus, gpus = (_number(resources, k, where.sub("resources", k), d) for k, d in (("cpus", 1.0), ("gpus", 0.0)))
    if cpus <= 0:
        raise where.error("resources.cpus", f"{cpus} must be more than 0")
    return SweepSpec(
        file=path, graph=graph_file, out=Path(out) if out else None, items=items, seed=seed, retries=retries,
        max_failures=_budget(data.get("max_failures", "10%"), where), keep=_names(data, "keep", where),
        disconnect=_names(data, "disconnect", where), fixed=fixed, axes=axes, combine=combine, draws=draws,
        cpus=cpus, gpus=gpus, text=text,
    )


# ------------------------------------------------------------------------------ pieces


class _Where:
    """Names a field of the spec in error messages: ``sweep.toml: [sweep] "render.width": ...``."""

    def __init__(self, path: Path, prefix: str = "") -> None:
        self.path, self.prefix = path, prefix

    def sub(self, table: str, key: str) -> _Where:
        return _Where(self.path, f"{table}.{_quote(key)}")

    def error(self, key: str, message: str) -> SpecError:
        name = f"{self.prefix}.{key}" if self.prefix and key else self.prefix or key
        return SpecError(f"{self.path}: {name}: {message}")


def _quote(key: str) -> str:
    return f'"{key}"' if "." in key or "/" in key else key


def _table(data: dict[str, Any], key: str, where: _Where) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise where.error(key, f"must be a table ([{key}]), got {type(value).__name__}")
    return value


def _int(data: dict[str, Any], key: str, where: _Where, default: int | None, low: int,
         high: int | None = None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise where.error(key, f"must be a whole number, got {value!r}")
    if value < low:
        raise where.error(key, f"{value} is below {low}")
    if high is not None and value > high:
        raise where.error(key, f"{value} is above the maximum, {high}")
    return value


def _number(data: dict[str, Any], key: str, where: _Where, default: float) -> float:
    value = data.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise where.error("", f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise where.error("", f"must be a finite number, got {value!r}")
    if value < 0:
        raise where.error("", f"{value} is below 0")
    return float(value)


def _finite(value: int | float) -> bool:
    return isinstance(value, int) or math.isfinite(value)  # an int is finite, however large


def _budget(value: Any, where: _Where) -> int | float:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            share = float(value[:-1]) / 100
        except ValueError:
            share = -1.0
        if 0 <= share <= 1:
            return share
    raise where.error("max_failures", f"{value!r}: a count (0 or more) or a share like \"10%\"")


def _names(data: dict[str, Any], key: str, where: _Where) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise where.error(key, "must be a list of node names or NODE.OUTPUT / NODE.INPUT texts")
    return tuple(value)


def _no_overlap(where: _Where, tables: dict[str, dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for table, entries in tables.items():
        for key in entries:
            if key in seen:
                raise where.error(f"{table}.{_quote(key)}", f"also given in [{seen[key]}]: give each input once")
            seen[key] = table


def _source(value: Any, base: Path, where: _Where) -> list[Any]:
    """An axis of the sweep: a list, ``{range = [a, b, step]}``, ``{glob = ...}`` or ``{jsonl = ...}``."""
    if isinstance(value, list):
        if not value:
            raise where.error("", "an empty list makes no items")
        return value
    if not isinstance(value, dict) or len(set(value) & SOURCE_KEYS) != 1:
        raise where.error("", "a list, or a table with one of range, glob, jsonl")
    if "range" in value:
        _only(value, {"range"}, where)
        return _range(value["range"], where)
    if "glob" in value:
        _only(value, {"glob"}, where)
        return _glob(value["glob"], base, where)
    _only(value, {"jsonl", "field"}, where)
    return _jsonl(value["jsonl"], value.get("field", "prompt"), base, where)


def _draw(value: Any, base: Path, where: _Where) -> Draw:
    """A random distribution: uniform, integers, choice, or a random file / JSONL line."""
    if not isinstance(value, dict) or len(set(value) & RANDOM_KEYS) != 1:
        raise where.error("", f"a table with one of {', '.join(sorted(RANDOM_KEYS))}")
    kind = next(iter(set(value) & RANDOM_KEYS))
    if kind == "glob":
        _only(value, {"glob"}, where)
        return Draw("choice", tuple(_glob(value["glob"], base, where)))
    if kind == "jsonl":
        _only(value, {"jsonl", "field"}, where)
        return Draw("choice", tuple(_jsonl(value["jsonl"], value.get("field", "prompt"), base, where)))
    _only(value, {kind}, where)
    args = value[kind]
    if not isinstance(args, list) or not args:
        raise where.error(kind, "must be a non-empty list")
    if kind == "choice":
        return Draw("choice", tuple(args))
    numbers = all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
    if len(args) != 2 or not numbers:
        raise where.error(kind, f"must be [low, high], got {args!r}")
    if not all(_finite(a) for a in args):
        raise where.error(kind, f"bounds must be finite numbers, got {args!r}")
    low, high = args
    if kind == "integers" and not all(isinstance(a, int) for a in args):
        raise where.error(kind, f"bounds must be whole numbers, got {args!r}")
    if low > high:
        raise where.error(kind, f"low {low} is above high {high}")
    return Draw(kind, (low, high))


def _only(value: dict[str, Any], allowed: set[str], where: _Where) -> None:
    if extra := sorted(set(value) - allowed):
        raise where.error(extra[0], f"unknown key here; use {', '.join(sorted(allowed))}")


def _range(args: Any, where: _Where) -> list[Any]:
    numbers = isinstance(args, list) and all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
    if not numbers or len(args) not in (2, 3):
        raise where.error("range", f"must be [start, stop] or [start, stop, step], got {args!r}")
    start, stop, step = (*args, 1) if len(args) == 2 else args
    if not all(_finite(a) for a in args):
        raise where.error("range", f"must hold finite numbers, got {args!r}")
    if step == 0:
        raise where.error("range", "step must not be 0")
    whole = all(isinstance(a, int) for a in (start, stop, step))
    try:  # the length first: a range of 10**13 values is an error, not a MemoryError
        span = len(range(start, stop, step)) if whole else max(0.0, (stop - start) / step - 1e-9)
    except OverflowError:
        span = math.inf
    if span > MAX_ITEMS:
        raise where.error("range", f"{args!r} holds more than {MAX_ITEMS} values, the most a sweep may have")
    if whole:
        values: list[Any] = list(range(start, stop, step))
    else:
        values = [round(start + k * step, 12) for k in range(math.ceil(span))]
    if not values:
        raise where.error("range", f"{args!r} holds no values (stop is exclusive)")
    return values


def _glob(pattern: Any, base: Path, where: _Where) -> list[Any]:
    if not isinstance(pattern, str) or not pattern:
        raise where.error("glob", "must be a file pattern, relative to the spec")
    files = sorted(str(Path(p).resolve()) for p in glob.glob(str(base / pattern), recursive=True) if Path(p).is_file())
    if not files:
        raise where.error("glob", f"{pattern!r} matches no files in {base}")
    return files


def _jsonl(name: Any, key: Any, base: Path, where: _Where) -> list[Any]:
    if not isinstance(name, str) or not name or not isinstance(key, str):
        raise where.error("jsonl", "must be a .jsonl file relative to the spec, with a text field name")
    file = base / name
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise where.error("jsonl", f"cannot read {file}: {getattr(e, 'strerror', None) or e}") from None
    values = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise where.error("jsonl", f"{file} line {number}: not JSON ({e.msg})") from None
        if not isinstance(record, dict) or key not in record:
            raise where.error("jsonl", f"{file} line {number}: no field {key!r}")
        values.append(record[key])
    if not values:
        raise where.error("jsonl", f"{file} has no lines")
    return values
