"""The spec expanded into work items, checked against the graph before anything runs.

Item ``i`` takes row ``i`` of the sweep (product or zip; the rows repeat when there are more
items than rows), a draw per ``[random]`` input from a generator seeded by (sweep seed,
``i``, input name), and a graph seed (given, or derived from the sweep seed and ``i``). So
an item's values never depend on the item count, and its id ``<index>-<digest>`` (the
digest covers the graph file, the values, the seed and what is kept) names the same work
on every run: ``--resume`` trusts a finished item only if its id still matches.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldgraph.nodes import Graph, GraphEditError, GraphInvalid, Input, validate
from worldgraph.nodes.types import ASSET, FILE, FLOAT, path_problem

from .spec import SEED, Draw, SpecError, SweepSpec

MAX_REPORTED = 10  # value problems listed before "and N more"


@dataclass(frozen=True)
class Item:
    index: int
    id: str
    seed: int  # the graph seed
    values: dict[str, Any]  # "/Graph/node.input" -> value

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "index": self.index, "seed": self.seed, "values": self.values}


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs besides the item: picklable, small."""

    graph: Path
    graph_sha: str
    disconnect: tuple[tuple[str, str], ...]  # (node path, input)
    keep: tuple[tuple[str, str], ...]  # (node path, FILE output); empty: keep everything


def make_plan(spec: SweepSpec, graph: Graph) -> tuple[Plan, list[Item]]:
    """The spec's items, every name and value checked against ``graph``; raises ``SpecError``
    (or ``GraphInvalid`` when the graph itself is wrong)."""
    if graph.load_problems or any(n.type_id not in graph.registry for n in graph.nodes.values()):
        raise GraphInvalid(str(spec.graph), validate(graph))  # names cannot be checked in a graph like that
    fixed = {key: _target(graph, key, f"set.{_q(key)}", spec) for key in spec.fixed}
    axes = {key: _target(graph, key, f"sweep.{_q(key)}", spec) for key in spec.axes}
    draws = {key: _target(graph, key, f"random.{_q(key)}", spec) for key in spec.draws}
    disconnect = tuple(_disconnect(graph, name, spec) for name in spec.disconnect)
    keep = tuple(k for name in spec.keep for k in _keep(graph, name, spec))
    rows = _rows(spec)
    count = spec.items or len(rows)
    graph_sha = hashlib.sha256(spec.graph.read_bytes()).hexdigest()
    problems: list[str] = []
    items = []
    for index in range(count):
        raw: dict[str, tuple[str, Any]] = {}  # key -> (field, value)
        raw |= {key: (field, spec.fixed[key]) for key, field in fixed.items()}
        if rows:
            raw |= {key: (field, rows[index % len(rows)][key]) for key, field in axes.items()}
        raw |= {key: (field, _sample(spec.draws[key], spec.seed, index, key)) for key, field in draws.items()}
        values: dict[str, Any] = {}
        seed = derived_seed(spec.seed, index)
        for key, (field, value) in raw.items():
            if key == SEED:
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    problems.append(f"{field}: item {index}: the graph seed must be a whole number >= 0, got {value!r}")
                else:
                    seed = value
                continue
            path, name = _split(graph, key)
            value = _coerce(graph, path, name, value, spec.file.resolve().parent)
            problem = _port(graph, path, name).check_value(value)
            if problem:
                problems.append(f"{field}: item {index}: {problem}")
            values[f"{path}.{name}"] = value
        digest = hashlib.sha256(json.dumps(
            {"graph": graph_sha, "seed": seed, "values": values, "disconnect": disconnect, "keep": keep},
            sort_keys=True, default=str).encode()).hexdigest()
        items.append(Item(index, f"{index:06d}-{digest[:10]}", seed, values))
    if problems:
        more = f"\n  and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        raise SpecError(f"{spec.file}: values the graph does not accept:\n  "
                        + "\n  ".join(problems[:MAX_REPORTED]) + more)
    plan = Plan(spec.graph.resolve(), graph_sha, disconnect, keep)
    if items:  # the graph with the first item's values must be valid, or nothing runs
        sample = copy_graph(graph)
        apply(sample, plan, items[0])
        if found := validate(sample):
            raise GraphInvalid(str(spec.graph), found)
    return plan, items


def derived_seed(seed: int, index: int) -> int:
    digest = hashlib.sha256(f"batch:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little") >> 1  # 31 bits: fits every graph file


def copy_graph(graph: Graph) -> Graph:
    """An independent copy of ``graph``'s nodes (values and connections), sharing its registry."""
    from dataclasses import replace

    fresh = Graph(graph.path, registry=graph.registry, base_dir=graph.base_dir, seed=graph.seed)
    fresh.nodes = {p: replace(n, values=dict(n.values), connections=dict(n.connections))
                   for p, n in graph.nodes.items()}
    fresh.load_problems = list(graph.load_problems)
    return fresh


def apply(graph: Graph, plan: Plan, item: Item) -> None:
    """Put ``item``'s values into ``graph`` (a copy): disconnections first, then values."""
    for path, name in plan.disconnect:
        graph.nodes[path].connections.pop(name, None)
    for key, value in item.values.items():
        path, _, name = key.rpartition(".")
        graph.set_value(path, name, value)
    graph.seed = item.seed


# ------------------------------------------------------------------------------ pieces


def _q(key: str) -> str:
    return f'"{key}"' if "." in key or "/" in key else key


def _split(graph: Graph, key: str) -> tuple[str, str]:
    node, _, name = key.rpartition(".")
    return graph.node(node).path, name


def _target(graph: Graph, key: str, field: str, spec: SweepSpec) -> str:
    """``field``'s name for messages, once ``key`` is known to be a value input of the graph."""
    if key == SEED:
        return field
    node, dot, name = key.rpartition(".")
    if not dot or not node or not name:
        raise SpecError(f"{spec.file}: {field}: expected NODE.INPUT (e.g. render.width) or seed")
    try:
        n = graph.node(node)
    except GraphEditError as e:
        raise SpecError(f"{spec.file}: {field}: {e}") from None
    schema = graph.registry.get(n.type_id).schema
    port = schema.input(name)
    if port is None:
        known = ", ".join(i.name for i in schema.inputs)
        raise SpecError(f"{spec.file}: {field}: {n.path} ({n.type_id}) has no input {name!r}; it has {known}")
    if port.type.connection_only:
        raise SpecError(f"{spec.file}: {field}: {n.path}.{name} takes a connection ({port.type}), not a value")
    if name in n.connections and key not in spec.disconnect and f"{n.path}.{name}" not in spec.disconnect:
        raise SpecError(f"{spec.file}: {field}: {n.path}.{name} is connected to {n.connections[name]}; "
                        f"list it in disconnect to replace the connection by the sweep's value")
    return field


def _disconnect(graph: Graph, key: str, spec: SweepSpec) -> tuple[str, str]:
    node, dot, name = key.rpartition(".")
    try:
        n = graph.node(node) if dot else None
    except GraphEditError as e:
        raise SpecError(f"{spec.file}: disconnect {key!r}: {e}") from None
    if n is None or name not in n.connections:
        raise SpecError(f"{spec.file}: disconnect {key!r}: not a connected input (NODE.INPUT)")
    return n.path, name


def _keep(graph: Graph, key: str, spec: SweepSpec) -> list[tuple[str, str]]:
    node, dot, name = key.rpartition(".") if "." in key else (key, "", "")
    try:
        n = graph.node(node)
    except GraphEditError as e:
        raise SpecError(f"{spec.file}: keep {key!r}: {e}") from None
    files = [o.name for o in graph.registry.get(n.type_id).schema.outputs if o.type is FILE]
    chosen = [name] if dot else files
    if not chosen or any(c not in files for c in chosen):
        raise SpecError(f"{spec.file}: keep {key!r}: {n.path} has no file output {name or ''}".rstrip()
                        + f"; its file outputs: {', '.join(files) or 'none'}")
    return [(n.path, c) for c in chosen]


def _rows(spec: SweepSpec) -> list[dict[str, Any]]:
    if not spec.axes:
        return []
    keys = list(spec.axes)
    columns = [spec.axes[k] for k in keys]
    combos = zip(*columns, strict=True) if spec.combine == "zip" else itertools.product(*columns)
    return [dict(zip(keys, combo, strict=True)) for combo in combos]


def _sample(draw: Draw, seed: int, index: int, key: str) -> Any:
    rng = random.Random(hashlib.sha256(f"{seed}:{index}:{key}".encode()).digest())
    if draw.kind == "uniform":
        return rng.uniform(*draw.args)
    if draw.kind == "integers":
        return rng.randint(*draw.args)
    return draw.args[rng.randrange(len(draw.args))]


def _port(graph: Graph, path: str, name: str) -> Input:
    port = graph.registry.get(graph.nodes[path].type_id).schema.input(name)
    assert port is not None  # checked by _target
    return port


def _coerce(graph: Graph, path: str, name: str, value: Any, base: Path) -> Any:
    port = _port(graph, path, name)
    if port.type is FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if port.type is ASSET and isinstance(value, str) and value and not path_problem(value, write=False):
        return str((base / value).resolve())  # the spec's paths are relative to the spec (a bad one is reported)
    return value
