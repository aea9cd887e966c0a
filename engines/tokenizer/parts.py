"""A tokenizer's engine parts: its encoder and its decoder, each exported on its own
(``engine(encoder("cv4x8x8"), backend)``). Sizes and the latents' look come from the
checkpoint's config: a DV tokenizer's latents are its normalized FSQ codes."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..runtime.spec import BATCH, Axis, Part, Port
from . import checkpoint as tokenizers
from .model import Tokenizer, TokenizerConfig

CODE = ("worldgraph.engines.tokenizer.model", "worldgraph.engines.tokenizer.haar",
        "worldgraph.engines.tokenizer.parts")  # a change to these rebuilds the engines


class TokenizerHalf(nn.Module):
    """A tokenizer's ``encode`` or ``decode`` as a module of its own."""

    def __init__(self, tokenizer: Tokenizer, method: str) -> None:
        super().__init__()
        self.tokenizer, self.method = tokenizer, method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self.tokenizer, self.method)(x)


def _source(name: str) -> dict[str, Any]:
    meta = tokenizers.meta(name)
    return {"sha256": meta.get("sha256", ""), "config": meta.get("config", {})}


def encoder(name: str) -> Part:
    """Frames [B, 3, 1 + 4k, H, W] in [-1, 1] -> latents [B, C, 1 + k, H/8, W/8]."""
    frames = Axis("frames", 1, 17, 65, step=4, offset=1)
    height, width = Axis("height", 8, 64, 256, step=8), Axis("width", 8, 64, 256, step=8)
    return Part(f"{name}.encode", "frames in [-1, 1] -> latents (DV: normalized FSQ codes)",
                (Port("video", "float32", (BATCH, 3, frames, height, width)),), ("latent",),
                lambda: TokenizerHalf(tokenizers.load(name), "encode"), lambda: _source(name), CODE)


def decoder(name: str) -> Part:
    """Latents [B, C, T', h, w] -> frames [B, 3, 1 + 4(T' - 1), 8h, 8w] in [-1, 1]."""
    cfg = TokenizerConfig.from_json(tokenizers.meta(name)["config"])
    latent_frames = Axis("latent_frames", 1, 5, 17)
    grid_h, grid_w = Axis("grid_h", 1, 8, 32), Axis("grid_w", 1, 8, 32)
    latents = Port("latent", "float32", (BATCH, cfg.code_channels, latent_frames, grid_h, grid_w),
                   "normal" if cfg.kind == "cv" else "uniform")
    return Part(f"{name}.decode", "latents -> frames in [-1, 1]", (latents,), ("video",),
                lambda: TokenizerHalf(tokenizers.load(name), "decode"), lambda: _source(name), CODE)


def parts(name: str) -> list[Part]:
    return [encoder(name), decoder(name)]
