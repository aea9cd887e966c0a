"""Tokenizer checkpoints: fp16 safetensors + a JSON card with the config and the file's
sha256 (checked by ``engines.weights``), found through the catalog. A checkpoint loads once
per process (again only when its weights change)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import torch

from .. import catalog
from .. import weights as files
from ..weights import CheckpointError
from .model import Tokenizer, TokenizerConfig

CHECKPOINTS = catalog.SHIPPED  # where training exports by default

__all__ = ["CHECKPOINTS", "CheckpointError", "export", "latent_statistics", "load", "meta"]


def export(model: Tokenizer, name: str, extra: dict[str, Any], folder: Path = CHECKPOINTS) -> Path:
    """Write ``name.safetensors`` (fp16) and ``name.json`` (config, sha256, ``extra``)."""
    card = {"family": "tokenizer", "config": model.cfg.to_json() | {"name": name}}
    return files.save(model, folder / f"{name}.safetensors", card | extra)


def meta(name: str, folder: Path | None = None) -> dict[str, Any]:
    """The card of tokenizer ``name`` (config, sha256, latent statistics, figures): a catalog
    name, or a path to its .json; ``folder``: look only there."""
    return files.read_meta(catalog.find(name, "tokenizer", folder).card)


def load(name: str, folder: Path | None = None) -> Tokenizer:
    """The tokenizer ``name`` (a catalog name, or a path to its .json), in eval mode, fp32."""
    entry = catalog.find(name, "tokenizer", folder)
    return _load(entry.card, entry.version)


@cache
def _load(json_path: Path, version: str) -> Tokenizer:
    info = files.read_meta(json_path)
    try:
        cfg = TokenizerConfig.from_json(info["config"])
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{json_path}: not a tokenizer config ({e})") from None
    model = files.load_into(Tokenizer(cfg), json_path.with_suffix(".safetensors"), info)
    assert isinstance(model, Tokenizer)
    return model


def latent_statistics(model: Tokenizer, videos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the latents of ``videos`` [N, 3, T, H, W] in [-1, 1]."""
    with torch.no_grad():
        z = torch.cat([model.encode(v[None]) for v in videos])  # [N, D, T', h, w]
    flat = z.transpose(0, 1).flatten(1)
    return flat.mean(1), flat.std(1).clamp_min(1e-6)
