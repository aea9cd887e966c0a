"""ControlNet branches on the world model's DiT, after Cosmos-Transfer1.

A branch is a trainable copy of the first N base blocks. It reads the base's input tokens
plus a hint: the control video (blur, edges, depth or segmentation) encoded by the same
tokenizer, patched and embedded by a small MLP whose last layer starts at zero. After each
of its blocks a zero-initialized projection gives a residual that is added to the output of
the matching base block, so an untrained branch changes nothing. The base stays frozen.

Several branches combine with per-modality weights (a number or a spatiotemporal map),
normalized per location by max(Σw, 1) as Cosmos-Transfer1 does.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..wfm.model import DiT, Embedded

MODALITIES = ("vis", "edge", "depth", "seg")


@dataclass(frozen=True)
class ControlConfig:
    modality: str = "edge"
    base: str = "wfm-cv4x8x8"  # the world model the branch was trained on
    blocks: int = 3  # copies of the first base blocks

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ControlConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class ControlBranch(nn.Module):
    """One modality's branch: hint embedding, copied blocks, zero-initialized outputs."""

    def __init__(self, base: DiT, cfg: ControlConfig) -> None:
        super().__init__()
        if not 1 <= cfg.blocks <= base.cfg.depth:
            raise ValueError(f"a branch copies 1..{base.cfg.depth} base blocks, not {cfg.blocks}")
        if cfg.modality not in MODALITIES:
            raise ValueError(f"unknown modality {cfg.modality!r}; modalities: {', '.join(MODALITIES)}")
        self.cfg = cfg
        d, p = base.cfg.width, base.cfg.patch
        self.hint = nn.Sequential(nn.Linear(base.cfg.latent_channels * p * p, d), nn.SiLU(), nn.Linear(d, d))
        # trainable copies, whether or not the (frozen) base's blocks take gradients
        self.blocks = nn.ModuleList(copy.deepcopy(base.blocks[i]) for i in range(cfg.blocks)).requires_grad_(True)
        self.outs = nn.ModuleList(nn.Linear(d, d) for _ in range(cfg.blocks))
        for layer in (self.hint[2], *self.outs):
            assert isinstance(layer, nn.Linear)
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, tokens: torch.Tensor, hint: torch.Tensor, ctx: Embedded,
                text_mask: torch.Tensor) -> list[torch.Tensor]:
        """Base input tokens [B, N, D] and hint patches [B, N, C*p*p] -> one residual per block."""
        h = tokens + self.hint(hint)
        residuals = []
        for block, out in zip(self.blocks, self.outs, strict=True):
            h = block(h, ctx.emb, ctx.shared, ctx.text, text_mask, ctx.rope)
            residuals.append(out(h))
        return residuals


@dataclass
class Control:
    """A branch with its hint (normalized control latents [B, C, T, h, w]) and its weight:
    a number or a map [B or 1, 1, T, h, w] over the latent grid."""

    branch: ControlBranch
    hint: torch.Tensor
    weight: float | torch.Tensor = 1.0


def token_weights(controls: list[Control], patch: int, batch: int, grid: tuple[int, int, int]) -> list[torch.Tensor]:
    """Each control's weight per token [B, N, 1], normalized per location by max(Σw, 1)."""
    t, h, w = grid
    maps = []
    for c in controls:
        weight = torch.as_tensor(c.weight, dtype=torch.float32)
        weight = weight.reshape(1, 1, 1, 1, 1) if weight.dim() == 0 else weight
        pooled = F.avg_pool3d(weight.expand(-1, 1, t, h, w), (1, patch, patch))  # [B, 1, t, h/p, w/p]
        maps.append(pooled.flatten(2).transpose(1, 2).expand(batch, -1, -1))
    total = torch.stack(maps).sum(0).clamp_min(1.0)
    return [m / total for m in maps]


class ControlledDiT(nn.Module):
    """The base DiT with control residuals: the same call as DiT, so edm.Denoiser wraps it."""

    def __init__(self, base: DiT, controls: list[Control]) -> None:
        super().__init__()
        self.base, self.controls, self.cfg = base, controls, base.cfg

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor) -> torch.Tensor:
        tokens, ctx = self.base.embed(x, c_noise, text, text_mask)
        b = x.shape[0]
        summed = [torch.zeros_like(tokens) for _ in range(max((c.branch.cfg.blocks for c in self.controls), default=0))]
        weights = token_weights(self.controls, self.cfg.patch, b, ctx.grid) if self.controls else []
        for control, weight in zip(self.controls, weights, strict=True):
            hint = control.hint.to(tokens.device, tokens.dtype)
            if hint.shape[0] != b:  # guidance doubles the batch: the same hint for both halves
                hint = hint.repeat(b // hint.shape[0], 1, 1, 1, 1)
            weight = weight.to(tokens.device, tokens.dtype)
            for i, r in enumerate(control.branch(tokens, self.base.patchify(hint), ctx, text_mask)):
                summed[i] = summed[i] + r * weight
        return self.base.unpatch(self.base.run_blocks(tokens, ctx, text_mask, summed), ctx)
