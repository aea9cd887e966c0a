"""Node schemas as data, and the ``@node`` decorator that pairs a schema with its compute.

A schema is what the editor builds widgets from, what the validator checks against and
what ``worldgraph nodes --json`` prints. The compute is a plain function
``compute(ctx, **inputs) -> {output name: value}``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .types import ENUM, PortType, path_problem


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Input:
    name: str
    type: PortType
    default: Any = REQUIRED  # REQUIRED: must be set or connected
    doc: str = ""
    range: tuple[float | None, float | None] | None = None  # inclusive (min, max)
    choices: Sequence[str] | None = None  # a tuple, or live ones (library.models.ModelChoices)
    optional: bool = False  # may stay unset: compute receives None
    nonfinite: bool = False  # a float input that takes nan and +-inf (refused unless this says so)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.optional

    def check_value(self, value: Any) -> str | None:
        """Why ``value`` cannot be this input's value, or None when it can."""
        if self.type.connection_only:
            return f"{self.type} inputs take a connection, not a value"
        if problem := self.type.check(value):
            return problem
        if isinstance(value, float) and not self.nonfinite and not math.isfinite(value):
            return f"{value!r} is not a finite number"
        if self.type.path is not None and (problem := path_problem(value, write=self.type.path == "write")):
            return problem
        if self.choices is not None and value not in self.choices:
            return f"{value!r} is not one of {', '.join(self.choices)}"
        if self.range is not None:
            lo, hi = self.range
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return f"{value!r} is out of range {self.range_text}"
        return None

    @property
    def range_text(self) -> str:
        lo, hi = self.range or (None, None)
        return f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type.name, "doc": self.doc}
        out["required"] = self.required
        if self.default is not REQUIRED:
            out["default"] = self.default
        if self.range is not None:
            out["range"] = list(self.range)
        if self.choices is not None:
            out["choices"] = list(self.choices)
        out["connection_only"] = self.type.connection_only
        if self.nonfinite:
            out["nonfinite"] = True
        return out


@dataclass(frozen=True)
class Output:
    name: str
    type: PortType
    doc: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.name, "doc": self.doc}


@dataclass(frozen=True)
class NodeSchema:
    id: str  # worldgraph.<family>.<Name>
    version: int
    category: str
    doc: str
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()
    deterministic: bool = True  # same inputs (+ seed) give the same outputs: cacheable
    seeded: bool = False  # uses its seed, so the seed is part of its cache key

    def __post_init__(self) -> None:
        for ports in (self.inputs, self.outputs):
            names = [p.name for p in ports]
            if len(set(names)) != len(names):
                raise ValueError(f"{self.id}: duplicate port names in {names}")
        for i in self.inputs:
            if i.type is ENUM and not i.choices:
                raise ValueError(f"{self.id}.{i.name}: an enum input needs choices")
            if i.default is not REQUIRED and (problem := i.check_value(i.default)):
                raise ValueError(f"{self.id}.{i.name}: bad default: {problem}")

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)

    def output(self, name: str) -> Output | None:
        return next((o for o in self.outputs if o.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "category": self.category,
            "doc": self.doc,
            "deterministic": self.deterministic,
            "seeded": self.seeded,
            "inputs": [i.to_json() for i in self.inputs],
            "outputs": [o.to_json() for o in self.outputs],
        }


Compute = Callable[..., Mapping[str, Any]]
# upgrade(old_version, {input: value}) -> {input: value} in the current version's terms
Upgrade = Callable[[int, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class NodeType:
    schema: NodeSchema
    compute: Compute = field(repr=False)
    upgrade: Upgrade | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.schema.id


def node(
    id: str,
    *,
    inputs: tuple[Input, ...] | list[Input] = (),
    outputs: tuple[Output, ...] | list[Output] = (),
    version: int = 1,
    deterministic: bool = True,
    seeded: bool = False,
    upgrade: Upgrade | None = None,
) -> Callable[[Compute], NodeType]:
    """Declare a node type; the decorated function is its compute.

    The category is the id's family (``worldgraph.io.SaveVideo`` -> ``io``) and the doc
    is the function's docstring.
    """
    parts = id.split(".")
    if len(parts) < 3 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"node id {id!r} is not of the form <pack>.<family>.<Name>")

    def wrap(compute: Compute) -> NodeType:
        params = set(inspect.signature(compute).parameters) - {"ctx"}
        declared = {i.name for i in inputs}
        if params != declared:
            raise ValueError(f"{id}: compute parameters {sorted(params)} != inputs {sorted(declared)}")
        schema = NodeSchema(
            id=id,
            version=version,
            category=parts[-2],
            doc=inspect.cleandoc(compute.__doc__ or ""),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            deterministic=deterministic,
            seeded=seeded,
        )
        return NodeType(schema, compute, upgrade)

    return wrap
