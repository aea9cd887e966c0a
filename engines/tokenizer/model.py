"""Causal video tokenizers after Cosmos-Tokenizer: continuous (CV) and discrete (DV, FSQ).

    video [B, 3, 1+4k, H, W] in [-1, 1]
      -> 3D Haar patching (4x4x4)            [B, 192, 1+k, H/4, W/4]
      -> encoder: factorized causal conv blocks, 2x spatial down, attention
      -> latent [B, 16, 1+k, H/8, W/8]        (CV)   or FSQ codes -> token ids (DV)
      -> decoder: the mirror image -> inverse Haar -> video

Every operation is causal in time: spatial convolutions and GroupNorm act per frame,
temporal convolutions pad by repeating the first frame, temporal attention is masked.
So the first frame is encoded alone (images are 1-frame clips) and a clip's prefix has
the prefix of its latents.

Between the Haar transforms, activations are kept frames-major, [B, T, C, H, W]: every
per-frame layer then runs on a free reshape to [B*T, C, H, W], and a temporal
convolution is one 1x1 convolution over three stacked frames. (The channel-major layout
spent about a tenth of the time transposing, in torch and in ONNX Runtime.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .haar import haar_forward, haar_inverse


@dataclass(frozen=True)
class TokenizerConfig:
    name: str = "cv4x8x8"
    kind: str = "cv"  # cv: continuous latents | dv: FSQ tokens
    latent_channels: int = 16  # CV latent width (DV: len(fsq_levels))
    fsq_levels: tuple[int, ...] = (8, 5, 5, 5)
    widths: tuple[int, int] = (96, 192)  # channels at H/4 and at H/8
    blocks: int = 2  # residual blocks per resolution, in each of encoder and decoder
    heads: int = 4
    groups: int = 8  # GroupNorm groups

    def __post_init__(self) -> None:
        if self.kind not in ("cv", "dv"):
            raise ValueError(f"tokenizer kind {self.kind!r} is not cv or dv")

    @property
    def code_channels(self) -> int:
        return self.latent_channels if self.kind == "cv" else len(self.fsq_levels)

    @property
    def vocabulary(self) -> int:
        n = 1
        for level in self.fsq_levels:
            n *= level
        return n

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenizerConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("fsq_levels", "widths"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


PRESETS: dict[str, TokenizerConfig] = {
    "cv4x8x8": TokenizerConfig(),
    "dv4x8x8": TokenizerConfig(name="dv4x8x8", kind="dv"),
    "tiny-cv": TokenizerConfig(name="tiny-cv", widths=(16, 32), blocks=1, heads=2, groups=4),
    "tiny-dv": TokenizerConfig(name="tiny-dv", kind="dv", widths=(16, 32), blocks=1, heads=2, groups=4),
}


# ------------------------------------------------------------------------------ layers


def per_frame(module: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Apply a 2D layer to every frame of frames-major [B, T, C, H, W]."""
    return module(x.flatten(0, 1)).unflatten(0, x.shape[:2])


class CausalTemporalConv(nn.Module):
    """A (3, 1, 1) convolution over time, padded by repeating the first frame; computed as
    a 1x1 convolution over the three frames stacked on channels."""

    def __init__(self, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.pad = kernel - 1
        self.conv = nn.Conv3d(channels, channels, (kernel, 1, 1))  # the weights; see forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, C, H, W] -> [B, T, C, H, W]."""
        t = x.shape[1]
        padded = torch.cat([x[:, :1].expand(-1, self.pad, -1, -1, -1), x], dim=1)
        stacked = torch.cat([padded[:, k : k + t] for k in range(self.pad + 1)], dim=2)  # [B, T, 3C, H, W]
        weight = self.conv.weight.transpose(1, 2).flatten(1, 2)  # [C, 3C, 1, 1], tap-major like stacked
        return per_frame(lambda f: F.conv2d(f, weight, self.conv.bias), stacked)


class ResBlock(nn.Module):
    """GroupNorm -> SiLU -> spatial (1,3,3) conv -> temporal (3,1,1) causal conv, twice."""

    def __init__(self, c_in: int, c_out: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.spatial1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.temporal1 = CausalTemporalConv(c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.spatial2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.temporal2 = CausalTemporalConv(c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = per_frame(nn.Sequential(self.norm1, nn.SiLU(), self.spatial1), x)
        h = self.temporal1(h)
        h = per_frame(nn.Sequential(self.norm2, nn.SiLU(), self.spatial2), h)
        h = self.temporal2(h)
        return per_frame(self.skip, x) + h


class Attention(nn.Module):
    """Spatial attention within each frame, then causal attention across frames."""

    def __init__(self, channels: int, heads: int, groups: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm_s = nn.GroupNorm(groups, channels)
        self.qkv_s = nn.Linear(channels, 3 * channels)
        self.out_s = nn.Linear(channels, channels)
        self.norm_t = nn.GroupNorm(groups, channels)
        self.qkv_t = nn.Linear(channels, 3 * channels)
        self.out_t = nn.Linear(channels, channels)

    def _attend(self, x: torch.Tensor, qkv: nn.Linear, out: nn.Linear, causal: bool) -> torch.Tensor:
        n, length, c = x.shape
        q, k, v = qkv(x).reshape(n, length, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # [N, heads, L, C/heads]
        return out(y.transpose(1, 2).reshape(n, length, c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = x.shape  # frames-major
        s = per_frame(self.norm_s, x).permute(0, 1, 3, 4, 2).reshape(b * t, h * w, c)  # [B*T, HW, C]
        x = x + self._attend(s, self.qkv_s, self.out_s, False).reshape(b, t, h, w, c).permute(0, 1, 4, 2, 3)
        s = per_frame(self.norm_t, x).permute(0, 3, 4, 1, 2).reshape(b * h * w, t, c)  # [B*H*W, T, C]
        y = self._attend(s, self.qkv_t, self.out_t, True)
        return x + y.reshape(b, h, w, t, c).permute(0, 3, 4, 1, 2)


class FSQ(nn.Module):
    """Finite scalar quantization: each channel bounded and rounded to one of L levels,
    with a straight-through gradient; a code is one integer index."""

    levels: torch.Tensor
    basis: torch.Tensor

    def __init__(self, levels: tuple[int, ...]) -> None:
        super().__init__()
        lv = torch.tensor(levels, dtype=torch.float32)
        self.register_buffer("levels", lv, persistent=False)
        basis = torch.cumprod(torch.tensor([1, *levels[:-1]], dtype=torch.float64), 0)
        self.register_buffer("basis", basis.long(), persistent=False)

    def _shape(self, x: torch.Tensor) -> torch.Tensor:
        return self.levels.view(1, -1, *([1] * (x.dim() - 2)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """[B, D, ...] -> quantized, normalized to [-1, 1] (straight-through)."""
        levels = self._shape(z)
        half = (levels - 1) * (1 - 1e-3) / 2
        offset = torch.where(levels % 2 == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half)
        bounded = torch.tanh(z + shift) * half - offset
        rounded = bounded + (bounded.round() - bounded).detach()
        return rounded / (levels // 2)

    def indices(self, codes: torch.Tensor) -> torch.Tensor:
        """Normalized codes [B, D, ...] -> integer ids [B, ...]."""
        levels = self._shape(codes)
        digits = (codes * (levels // 2) + levels // 2).round().long()
        return (digits * self.basis.view_as(levels).long()).sum(1)

    def codes(self, ids: torch.Tensor) -> torch.Tensor:
        """Integer ids [B, ...] -> normalized codes [B, D, ...]."""
        levels = self.levels.long().view(1, -1, *[1] * (ids.dim() - 1))
        digits = (ids.unsqueeze(1) // self.basis.view_as(levels)) % levels
        return (digits - levels // 2).float() / (levels // 2)


# ------------------------------------------------------------------------------ model


class Encoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__()
        c1, c2 = cfg.widths
        self.stem = nn.Conv2d(3 * 64, c1, 3, padding=1)
        self.high = nn.ModuleList(ResBlock(c1, c1, cfg.groups) for _ in range(cfg.blocks))
        self.down = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.low = nn.ModuleList(ResBlock(c2, c2, cfg.groups) for _ in range(cfg.blocks))
        self.attention = Attention(c2, cfg.heads, cfg.groups)
        self.out = nn.Sequential(nn.GroupNorm(cfg.groups, c2), nn.SiLU(), nn.Conv2d(c2, cfg.code_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = per_frame(self.stem, haar_forward(x).transpose(1, 2))  # [B, 1+k, C1, H/4, W/4]
        for block in self.high:
            h = block(h)
        h = per_frame(self.down, h)  # [B, 1+k, C2, H/8, W/8]
        for block in self.low:
            h = block(h)
        return per_frame(self.out, self.attention(h)).transpose(1, 2)  # [B, D, 1+k, H/8, W/8]


class Decoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__()
        c1, c2 = cfg.widths
        self.stem = nn.Conv2d(cfg.code_channels, c2, 3, padding=1)
        self.attention = Attention(c2, cfg.heads, cfg.groups)
        self.low = nn.ModuleList(ResBlock(c2, c2, cfg.groups) for _ in range(cfg.blocks))
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c2, c1, 3, padding=1))
        self.high = nn.ModuleList(ResBlock(c1, c1, cfg.groups) for _ in range(cfg.blocks))
        self.out = nn.Sequential(nn.GroupNorm(cfg.groups, c1), nn.SiLU(), nn.Conv2d(c1, 3 * 64, 3, padding=1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.attention(per_frame(self.stem, z.transpose(1, 2)))  # [B, 1+k, C2, H/8, W/8]
        for block in self.low:
            h = block(h)
        h = per_frame(self.up, h)  # [B, 1+k, C1, H/4, W/4]
        for block in self.high:
            h = block(h)
        return haar_inverse(per_frame(self.out, h).transpose(1, 2))  # [B, 3, 1+4k, H, W]


class Tokenizer(nn.Module):
    """Encode / decode videos in [-1, 1]; CV gives latents, DV gives codes and token ids."""

    latent_mean: torch.Tensor
    latent_std: torch.Tensor

    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.fsq = FSQ(cfg.fsq_levels) if cfg.kind == "dv" else None
        # per-channel latent statistics, measured after training, for the diffusion model
        self.register_buffer("latent_mean", torch.zeros(cfg.code_channels))
        self.register_buffer("latent_std", torch.ones(cfg.code_channels))
        self.initialize_weights()

    def initialize_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Conv3d | nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        for block in self.modules():  # residual branches start as identity
            if isinstance(block, ResBlock):
                nn.init.zeros_(block.temporal2.conv.weight)
            if isinstance(block, Attention):
                nn.init.zeros_(block.out_s.weight)
                nn.init.zeros_(block.out_t.weight)

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """[B, 3, 1+4k, H, W] -> CV latents or DV normalized codes [B, D, 1+k, H/8, W/8]."""
        z = self.encoder(video)
        return self.fsq(z) if self.fsq is not None else z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(video))

    def tokens(self, video: torch.Tensor) -> torch.Tensor:
        """DV only: integer token ids [B, 1+k, H/8, W/8]."""
        if self.fsq is None:
            raise ValueError(f"{self.cfg.name} is continuous: it has latents, not tokens")
        return self.fsq.indices(self.encode(video))

    def decode_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        if self.fsq is None:
            raise ValueError(f"{self.cfg.name} is continuous: it has latents, not tokens")
        return self.decode(self.fsq.codes(ids))

