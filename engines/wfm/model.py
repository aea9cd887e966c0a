"""The diffusion world model's network: a DiT over tokenizer latents, after Cosmos-Predict1.

    latents [B, 16, T, h, w] (+ 1 condition-mask channel)
      -> 2x2 spatial patches -> tokens [B, T*h/2*w/2, D]
      -> blocks: self-attention (3D RoPE, QK-norm) -> cross-attention to text -> MLP,
         each sub-layer modulated by AdaLN-LoRA from the noise embedding
      -> AdaLN final layer -> patches -> [B, 16, T, h, w]

This is the raw network F; ``edm.Denoiser`` wraps it with the EDM preconditioning.
Modulation and output layers start at zero, so an untrained model is the identity on its
residual stream and predicts zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class WFMConfig:
    name: str = "wfm-cv4x8x8"
    tokenizer: str = "cv4x8x8"  # the latents it was trained on
    latent_channels: int = 16
    patch: int = 2  # spatial patch over the latent grid
    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 4.0
    lora_rank: int = 32  # AdaLN-LoRA rank
    text_dim: int = 384  # MiniLM token embeddings
    sigma_data: float = 0.5
    # post-training (Cosmos's action- and camera-conditioned models); 0: not conditioned
    action_dim: int = 0  # one latent frame's actions, flattened, added to the noise embedding
    ray_channels: int = 0  # Plücker rays per latent pixel (6), extra input channels
    predicts_change: bool = False  # diffuses the change from the scene held still (edm.Condition.reference)
    map_channels: int = 0  # where the pusher is per latent pixel (engines.post.pusher), extra input channels

    @property
    def head_dim(self) -> int:
        return self.width // self.heads

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WFMConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


PRESETS: dict[str, WFMConfig] = {
    "wfm-cv4x8x8": WFMConfig(),
    # the same network on the latents of cv4x8x8-v2 (which keep more of the motion)
    "wfm-cv4x8x8-v2": WFMConfig(name="wfm-cv4x8x8-v2", tokenizer="cv4x8x8-v2"),
    "tiny-wfm": WFMConfig(name="tiny-wfm", width=32, depth=1, heads=2, lora_rank=8),
}


# ------------------------------------------------------------------------------ positions


def rope_split(head_dim: int) -> tuple[int, int, int]:
    """Head dimensions given to time, height and width (even; time gets the remainder)."""
    hw = (head_dim // 3) // 2 * 2
    return head_dim - 2 * hw, hw, hw


def rope_3d(t: int, h: int, w: int, head_dim: int, theta: float = 10_000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin [t*h*w, head_dim / 2] for tokens in (t, h, w) raster order."""
    angles = []
    for axis, (n, dim) in enumerate(zip((t, h, w), rope_split(head_dim), strict=True)):
        freqs = theta ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        pos = torch.arange(n, dtype=torch.float64)
        grid = [1, 1, 1]
        grid[axis] = n
        a = (pos[:, None] * freqs[None]).reshape(*grid, dim // 2).expand(t, h, w, dim // 2)
        angles.append(a.reshape(t * h * w, dim // 2))
    angle = torch.cat(angles, -1)
    return angle.cos().float(), angle.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate [B, heads, N, head_dim] by the angles: first half pairs with second half."""
    a, b = x.chunk(2, dim=-1)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


def timestep_features(c_noise: torch.Tensor, dim: int = 256) -> torch.Tensor:
    """Sinusoidal features [B, dim] of the scalar noise level."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32, device=c_noise.device) / half)
    args = c_noise.float()[:, None] * 1000 * freqs[None]
    return torch.cat([args.cos(), args.sin()], dim=-1)


# ------------------------------------------------------------------------------ layers


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class RMSNorm(nn.Module):
    """RMSNorm that keeps the input's dtype under autocast (bf16 activations, fp32 weight)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)
        return (x.float() * scale).to(x.dtype) * self.weight.to(x.dtype)


class Attention(nn.Module):
    """Multi-head attention with per-head RMSNorm on queries and keys (QK-norm)."""

    def __init__(self, dim: int, heads: int, context_dim: int | None = None) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(context_dim or dim, 2 * dim, bias=False)
        self.q_norm = RMSNorm(dim // heads)
        self.k_norm = RMSNorm(dim // heads)
        self.out = nn.Linear(dim, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        rope: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        q = self.q_norm(self._split(self.q(x)))
        k, v = self.kv(x if context is None else context).chunk(2, dim=-1)
        k, v = self.k_norm(self._split(k)), self._split(v)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        # [B, 1, Nq, L]: spelled out over the queries, as ONNX's Attention op wants it
        attn_mask = None if mask is None else mask[:, None, None, :].expand(-1, 1, q.shape[2], -1)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.out(y.transpose(1, 2).flatten(2))


class Block(nn.Module):
    """Self-attention -> cross-attention -> MLP, each gated and modulated by AdaLN-LoRA."""

    def __init__(self, cfg: WFMConfig) -> None:
        super().__init__()
        d = cfg.width
        self.norms = nn.ModuleList(nn.LayerNorm(d, elementwise_affine=False, eps=1e-6) for _ in range(3))
        self.attn = Attention(d, cfg.heads)
        self.cross = Attention(d, cfg.heads, context_dim=cfg.text_dim)
        hidden = int(d * cfg.mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, d))
        # AdaLN-LoRA: a low-rank per-block term on top of the shared one from the embedder
        lora_out = nn.Linear(cfg.lora_rank, 9 * d, bias=False)
        nn.init.zeros_(lora_out.weight)
        self.lora = nn.Sequential(nn.SiLU(), nn.Linear(d, cfg.lora_rank, bias=False), lora_out)

    def forward(
        self,
        x: torch.Tensor,
        emb: torch.Tensor,
        shared: torch.Tensor,
        text: torch.Tensor,
        text_mask: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        mod = (self.lora(emb) + shared.repeat(1, 3)).unsqueeze(1).chunk(9, dim=-1)
        sublayers: tuple[Callable[[torch.Tensor], torch.Tensor], ...] = (
            lambda h: self.attn(h, rope=rope),
            lambda h: self.cross(h, context=text, mask=text_mask),
            self.mlp,
        )
        for i, f in enumerate(sublayers):
            shift, scale, gate = mod[3 * i : 3 * i + 3]
            x = x + gate * f(modulate(self.norms[i](x), shift, scale))
        return x


@dataclass
class Embedded:
    """What every block takes besides the tokens: the noise embedding, AdaLN-LoRA's shared
    term, the normalized text, the RoPE angles, and the latent grid (t, h, w)."""

    emb: torch.Tensor
    shared: torch.Tensor
    text: torch.Tensor
    rope: tuple[torch.Tensor, torch.Tensor]
    grid: tuple[int, int, int]


class DiT(nn.Module):
    """The raw network F(c_in·x, c_noise, text) of the EDM denoiser."""

    def __init__(self, cfg: WFMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, p, c = cfg.width, cfg.patch, cfg.latent_channels
        self.patch_in = nn.Linear((c + 1 + cfg.ray_channels + cfg.map_channels) * p * p, d)  # +1: the mask
        self.time = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        if cfg.action_dim:
            self.action = nn.Sequential(nn.Linear(cfg.action_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.shared = nn.Sequential(nn.SiLU(), nn.Linear(d, 3 * d))  # AdaLN-LoRA's shared term
        self.text_norm = nn.LayerNorm(cfg.text_dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final_mod = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        self.patch_out = nn.Linear(d, c * p * p)
        zeroed = [self.shared[1], self.final_mod[1], self.patch_out]
        if cfg.action_dim:  # an untrained action embedding leaves the base model as it was
            zeroed.append(self.action[2])
        for layer in zeroed:
            assert isinstance(layer, nn.Linear)
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(
        self,
        x: torch.Tensor,
        c_noise: torch.Tensor,
        text: torch.Tensor,
        text_mask: torch.Tensor,
        action: torch.Tensor | None = None,
        rays: torch.Tensor | None = None,
        pusher: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x [B, C+1, T, h, w] (scaled latents + condition mask), c_noise [B],
        text [B, L, text_dim], text_mask [B, L] -> [B, C, T, h, w]. Post-trained models
        also take ``action`` [B, action_dim] (what happens during the frame being made),
        ``rays`` [B, ray_channels, T, h, w] (where each latent pixel looks from) and
        ``pusher`` [B, map_channels, T, h, w] (where the actions put the pusher)."""
        tokens, ctx = self.embed(x, c_noise, text, text_mask, action, rays, pusher)
        return self.unpatch(self.run_blocks(tokens, ctx, text_mask), ctx)

    def run_blocks(self, tokens: torch.Tensor, ctx: Embedded, text_mask: torch.Tensor,
                   residuals: Sequence[torch.Tensor] = ()) -> torch.Tensor:
        """The blocks; ``residuals`` [B, N, D] (ControlNets') are added to the first blocks' outputs."""
        for i, block in enumerate(self.blocks):
            tokens = block(tokens, ctx.emb, ctx.shared, ctx.text, text_mask, ctx.rope)
            if i < len(residuals):
                tokens = tokens + residuals[i]
        return tokens

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, T, h, w] -> patches [B, T*h/p*w/p, C*p*p] in (t, h, w) raster order."""
        b, c, t, h, w = x.shape
        p = self.cfg.patch
        if h % p or w % p:
            raise ValueError(f"latent grid {h}x{w} is not divisible by the patch size {p}")
        x = x.reshape(b, c, t, h // p, p, w // p, p).permute(0, 2, 3, 5, 1, 4, 6)
        return x.reshape(b, t * (h // p) * (w // p), -1)

    def embed(self, x: torch.Tensor, c_noise: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
              action: torch.Tensor | None = None, rays: torch.Tensor | None = None,
              pusher: torch.Tensor | None = None) -> tuple[torch.Tensor, Embedded]:
        """Input tokens and what every block takes besides them."""
        b, _, t, h, w = x.shape
        if self.cfg.ray_channels:
            if rays is None:
                raise ValueError("this model is camera-conditioned: pass the Plücker rays")
            x = torch.cat([x, rays.to(x.dtype)], dim=1)
        if self.cfg.map_channels:
            if pusher is None:
                raise ValueError("this model takes the pusher's map: pass where the actions put it")
            x = torch.cat([x, pusher.to(x.dtype)], dim=1)
        tokens = self.patch_in(self.patchify(x))
        emb = self.time(timestep_features(c_noise).to(tokens.dtype))
        if self.cfg.action_dim:  # Cosmos: added to the timestep embedding, so AdaLN-LoRA sees it too
            if action is None:
                raise ValueError("this model is action-conditioned: pass the actions")
            emb = emb + self.action(action.to(emb.dtype))
        p = self.cfg.patch
        cos, sin = rope_3d(t, h // p, w // p, self.cfg.head_dim)
        return tokens, Embedded(emb, self.shared(emb), self.text_norm(text),
                                (cos.to(tokens.device), sin.to(tokens.device)), (t, h, w))

    def unpatch(self, tokens: torch.Tensor, ctx: Embedded) -> torch.Tensor:
        """The final AdaLN layer, tokens -> [B, C, T, h, w]."""
        t, h, w = ctx.grid
        p, c = self.cfg.patch, self.cfg.latent_channels
        shift, scale = self.final_mod(ctx.emb).unsqueeze(1).chunk(2, dim=-1)
        out = self.patch_out(modulate(self.final_norm(tokens), shift, scale))
        out = out.reshape(-1, t, h // p, w // p, c, p, p).permute(0, 4, 1, 2, 5, 3, 6)
        return out.reshape(-1, c, t, h, w)
