"""Shipped tokenizer checkpoints: fp16 safetensors + a JSON config with the file's sha256
(checked by ``engines.weights``). Models load once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import torch

from .. import weights as files
from ..weights import CheckpointError
from .model import Tokenizer, TokenizerConfig

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"

__all__ = ["CHECKPOINTS", "CheckpointError", "available", "export", "latent_statistics", "load"]


def export(model: Tokenizer, name: str, extra: dict[str, Any], folder: Path = CHECKPOINTS) -> Path:
    """Write ``name.safetensors`` (fp16) and ``name.json`` (config, sha256, ``extra``)."""
    return files.save(model, folder / f"{name}.safetensors", {"config": model.cfg.to_json() | {"name": name}} | extra)


def available(folder: Path = CHECKPOINTS) -> list[str]:
    """The tokenizer checkpoints in ``folder`` (other models' files live there too)."""
    return sorted(p.stem for p in folder.glob("*.json") if '"fsq_levels"' in p.read_text())


def meta(name: str, folder: Path = CHECKPOINTS) -> dict[str, Any]:
    """The JSON of tokenizer ``name`` (config, sha256, latent statistics, figures)."""
    return files.read_meta(files.locate(name, folder, "tokenizer", available(folder)))


@cache
def load(name: str, folder: Path = CHECKPOINTS) -> Tokenizer:
    """The tokenizer ``name`` (a shipped name, or a path to its .json), in eval mode, fp32."""
    json_path = files.locate(name, folder, "tokenizer", available(folder))
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
