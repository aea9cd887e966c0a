"""What an engine runs: a part of a model (a tokenizer's encoder, the world model's
network, ...), a torch module with named, typed inputs whose dynamic axes say which sizes
it takes. The same description checks inputs before any backend runs, shapes the ONNX
export and gives TensorRT its min/opt/max profile.

This is the runtime's whole view of a model: each family declares its parts beside its
model and hands the ``Part`` itself to ``engines.runtime.engine``; nothing here knows any
model. The list of every part (``worldgraph engines``) is ``engines.families``'s.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["BATCH", "DTYPES", "Axis", "EngineInputError", "Part", "Port"]


class EngineInputError(ValueError):
    """Inputs a part cannot take; the message names the part, the input and what it takes."""


@dataclass(frozen=True)
class Axis:
    """A dynamic size ``offset + step * k`` within [min, max]; ``opt`` is the usual one."""

    name: str
    min: int
    opt: int
    max: int
    step: int = 1
    offset: int = 0

    def fits(self, n: int, bounded: bool = True) -> bool:
        """Whether size ``n`` is allowed; ``bounded``: also within [min, max] (TensorRT's profile)."""
        return (self.min <= n <= self.max or not bounded and n >= self.min) and (n - self.offset) % self.step == 0

    def describe(self) -> str:
        rule = f"{self.offset} + {self.step}k" if self.offset else f"{self.step}k" if self.step > 1 else ""
        return f"{self.name}{'=' + rule if rule else ''} in {self.min}..{self.max}"


DTYPES = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}


@dataclass(frozen=True)
class Port:
    name: str
    dtype: str  # a key of DTYPES
    shape: tuple[int | Axis, ...]
    sample: str = "uniform"  # what example values look like: uniform | normal | ids | mask | sigma

    def describe(self) -> str:
        dims = ", ".join(str(d) if isinstance(d, int) else d.describe() for d in self.shape)
        return f"{self.dtype} [{dims}]"


@dataclass(frozen=True)
class Part:
    """One exportable network of a shipped model."""

    name: str  # model.part, e.g. cv4x8x8.encode
    doc: str
    inputs: tuple[Port, ...]
    outputs: tuple[str, ...]
    module: Callable[[], nn.Module]  # the fp32 torch reference, in eval mode
    source: Callable[[], dict[str, Any]]  # checkpoint sha256 and config: what the engine is built from
    code: tuple[str, ...] = ()  # modules whose source defines the network (a change rebuilds engines)
    tolerance: float = 1e-3  # max abs difference to torch that verify accepts

    def code_digest(self) -> str:
        digest = hashlib.sha256()
        for name in self.code:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                raise KeyError(f"{self.name}: no module {name}")
            digest.update(Path(spec.origin).read_bytes())
        return digest.hexdigest()

    def axes(self) -> dict[str, Axis]:
        return {d.name: d for port in self.inputs for d in port.shape if isinstance(d, Axis)}

    def check(self, inputs: tuple[torch.Tensor, ...], bounded: bool = False) -> None:
        """Raise EngineInputError for anything this part would not take; ``bounded``: sizes
        above the axes' max too (engines built for a fixed range)."""
        if len(inputs) != len(self.inputs):
            raise EngineInputError(f"{self.name}: takes {len(self.inputs)} inputs "
                                   f"({', '.join(p.name for p in self.inputs)}), got {len(inputs)}")
        seen: dict[str, int] = {}
        for port, x in zip(self.inputs, inputs, strict=True):
            wanted = f"{self.name}: input '{port.name}' takes {port.describe()}"
            if not isinstance(x, torch.Tensor):
                raise EngineInputError(f"{wanted}, got {type(x).__name__}")
            if x.dtype != DTYPES[port.dtype]:
                raise EngineInputError(f"{wanted}, got {str(x.dtype).removeprefix('torch.')}")
            if x.dim() != len(port.shape):
                raise EngineInputError(f"{wanted}, got {x.dim()} dimensions {list(x.shape)}")
            for dim, n in zip(port.shape, x.shape, strict=True):
                if isinstance(dim, int) and n != dim or isinstance(dim, Axis) and not dim.fits(n, bounded):
                    raise EngineInputError(f"{wanted}, got {list(x.shape)}")
                if isinstance(dim, Axis) and seen.setdefault(dim.name, n) != n:
                    raise EngineInputError(f"{wanted}, got {dim.name} {n} where another input has "
                                           f"{seen[dim.name]}")

    def example(self, sizes: dict[str, int] | None = None, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """Inputs at the axes' usual sizes (or ``sizes``), with values like real ones."""
        sizes = {name: axis.opt for name, axis in self.axes().items()} | (sizes or {})
        g = torch.Generator().manual_seed(seed)
        out = []
        for port in self.inputs:
            shape = [d if isinstance(d, int) else sizes[d.name] for d in port.shape]
            if port.sample == "ids":
                x = torch.randint(1000, 8000, shape, generator=g)
            elif port.sample == "mask":
                x = torch.ones(shape, dtype=DTYPES[port.dtype])
            elif port.sample == "sigma":  # c_noise = ln(sigma) / 4 over the sampler's range
                x = torch.empty(shape).uniform_(-1.6, 1.1, generator=g)
            elif port.sample == "normal":
                x = torch.randn(shape, generator=g)
            else:
                x = torch.rand(shape, generator=g) * 2 - 1
            out.append(x)
        return tuple(out)


BATCH = Axis("batch", 1, 2, 64)
