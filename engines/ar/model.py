"""The autoregressive world model's network: a decoder-only transformer over the discrete
tokenizer's token ids, after Cosmos-Predict1's autoregressive models.

    token ids [B, T', h, w] -> raster order within a latent frame, frames in time order
      -> slot i holds token i-1 (a learned start token in slot 0) and predicts token i
      -> embedding + absolute position embedding of slot i
      -> blocks: causal self-attention (3D RoPE at token i's (t, h, w), QK-norm)
                 -> cross-attention to MiniLM text -> MLP, each pre-RMSNorm
      -> RMSNorm -> logits over the vocabulary

A slot carries the position of the token it predicts, so every query knows which (t, h, w)
it is about to fill. Incremental decoding keeps each block's keys and values (``KVCache``):
one new token costs one slot's work instead of the whole prefix's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..wfm.model import apply_rope, rope_3d


@dataclass(frozen=True)
class ARConfig:
    name: str = "ar-dv4x8x8"
    tokenizer: str = "dv4x8x8"  # the tokens it was trained on
    vocabulary: int = 1000
    latent_frames: int = 5  # the longest clip: 1 + 4·4 = 17 frames
    grid: tuple[int, int] = (8, 8)  # latent grid of a 64x64 clip
    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 4.0
    text_dim: int = 384  # MiniLM token embeddings; 0: no cross-attention
    dropout: float = 0.25  # 0.1 overfit the 1,500 training clips sooner (held-out loss 2.50 vs 2.37)

    @property
    def head_dim(self) -> int:
        return self.width // self.heads

    @property
    def frame_tokens(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def max_tokens(self) -> int:
        return self.latent_frames * self.frame_tokens

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ARConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "grid" in known:
            known["grid"] = tuple(known["grid"])
        return cls(**known)


PRESETS: dict[str, ARConfig] = {
    "ar-dv4x8x8": ARConfig(),
    "tiny-ar": ARConfig(name="tiny-ar", width=32, depth=1, heads=2),
}


@dataclass
class KVCache:
    """Each block's keys and values for the slots seen so far, in buffers [B, heads, capacity,
    head_dim] allocated once (growing them by concatenation cost a seventh of decoding)."""

    keys: list[torch.Tensor] = field(default_factory=list)
    values: list[torch.Tensor] = field(default_factory=list)
    filled: list[int] = field(default_factory=list)  # slots held, per block
    text: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)  # cross-attention's, per block

    @property
    def length(self) -> int:
        return self.filled[-1] if self.filled else 0

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor, capacity: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Store block ``layer``'s new keys and values; all of its keys and values so far."""
        if layer == len(self.keys):
            b, h, _, d = k.shape
            self.keys.append(k.new_empty(b, h, capacity, d))
            self.values.append(v.new_empty(b, h, capacity, d))
            self.filled.append(0)
        start, end = self.filled[layer], self.filled[layer] + k.shape[2]
        self.keys[layer][:, :, start:end] = k
        self.values[layer][:, :, start:end] = v
        self.filled[layer] = end
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def select(self, rows: torch.Tensor) -> KVCache:
        """The cache of the batch rows ``rows`` (beam search keeps and repeats rows)."""
        return KVCache([k[rows] for k in self.keys], [v[rows] for v in self.values], list(self.filled),
                       [(k[rows], v[rows]) for k, v in self.text])


class QKNorm(nn.RMSNorm):
    """RMSNorm of queries / keys in fp32 whatever their dtype (bf16 under autocast, where
    the fp32 weight and a bf16 input miss the fused kernel), returned in their dtype."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).to(x.dtype)


class SelfAttention(nn.Module):
    """Causal multi-head self-attention with QK-norm and RoPE, appending to a KV cache."""

    def __init__(self, cfg: ARConfig) -> None:
        super().__init__()
        self.heads, self.capacity = cfg.heads, cfg.max_tokens
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width, bias=False)
        self.q_norm = QKNorm(cfg.head_dim, eps=1e-6)
        self.k_norm = QKNorm(cfg.head_dim, eps=1e-6)
        self.out = nn.Linear(cfg.width, cfg.width)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], cache: KVCache | None,
                layer: int) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k = apply_rope(self.q_norm(q), *rope), apply_rope(self.k_norm(k), *rope)
        past = 0
        if cache is not None:
            past = cache.filled[layer] if layer < len(cache.filled) else 0
            k, v = cache.append(layer, k, v, self.capacity)
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=n > 1)
        elif n == 1:  # one new slot sees every slot so far
            y = F.scaled_dot_product_attention(q, k, v)
        else:  # new slots see every cached one and the new ones before them
            allowed = torch.ones(n, past + n, dtype=torch.bool, device=x.device).tril(past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class CrossAttention(nn.Module):
    """Attention from the video tokens to the prompt's token embeddings (QK-norm)."""

    def __init__(self, cfg: ARConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.q = nn.Linear(cfg.width, cfg.width, bias=False)
        self.kv = nn.Linear(cfg.text_dim, 2 * cfg.width, bias=False)
        self.q_norm = QKNorm(cfg.head_dim, eps=1e-6)
        self.k_norm = QKNorm(cfg.head_dim, eps=1e-6)
        self.out = nn.Linear(cfg.width, cfg.width)

    def keys_values(self, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(text).reshape(text.shape[0], text.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)
        return self.k_norm(k), v

    def forward(self, x: torch.Tensor, text: torch.Tensor, mask: torch.Tensor, cache: KVCache | None,
                layer: int) -> torch.Tensor:
        b, n, d = x.shape
        q = self.q_norm(self.q(x).reshape(b, n, self.heads, -1).transpose(1, 2))
        if cache is None:
            k, v = self.keys_values(text)
        else:  # the prompt's keys and values are the same for every token: made once
            if layer == len(cache.text):
                cache.text.append(self.keys_values(text))
            k, v = cache.text[layer]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, cfg: ARConfig) -> None:
        super().__init__()
        d = cfg.width
        self.attn_norm, self.attn = nn.RMSNorm(d, eps=1e-6), SelfAttention(cfg)
        self.cross = CrossAttention(cfg) if cfg.text_dim else None
        self.cross_norm = nn.RMSNorm(d, eps=1e-6) if cfg.text_dim else None
        hidden = int(d * cfg.mlp_ratio)
        self.mlp_norm = nn.RMSNorm(d, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, d))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], text: torch.Tensor | None,
                text_mask: torch.Tensor | None, cache: KVCache | None, layer: int) -> torch.Tensor:
        x = x + self.drop(self.attn(self.attn_norm(x), rope, cache, layer))
        if self.cross is not None and self.cross_norm is not None and text is not None and text_mask is not None:
            x = x + self.drop(self.cross(self.cross_norm(x), text, text_mask, cache, layer))
        return x + self.drop(self.mlp(self.mlp_norm(x)))


class VideoGPT(nn.Module):
    """Next-token logits for a video's token ids in (t, h, w) raster order."""

    def __init__(self, cfg: ARConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.width
        self.embed = nn.Embedding(cfg.vocabulary, d)
        self.start = nn.Parameter(torch.zeros(d))
        self.position = nn.Parameter(torch.zeros(cfg.max_tokens, d))
        self.text_norm = nn.LayerNorm(cfg.text_dim) if cfg.text_dim else None
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm = nn.RMSNorm(d, eps=1e-6)
        self.head = nn.Linear(d, cfg.vocabulary, bias=False)
        self._rope: dict[tuple[tuple[int, int], torch.device], tuple[torch.Tensor, torch.Tensor]] = {}
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.position, std=0.02)
        nn.init.normal_(self.start, std=0.02)
        for name, p in self.blocks.named_parameters():  # residual branches start small
            if name.endswith(("out.weight", "mlp.2.weight")):
                nn.init.normal_(p, std=0.02 / (2 * cfg.depth) ** 0.5)
            elif name.endswith(("out.bias", "mlp.2.bias")):
                nn.init.zeros_(p)

    def rope(self, start: int, n: int, grid: tuple[int, int],
             device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """RoPE angles of token positions start..start+n in (t, h, w) raster order."""
        key = (grid, device)
        if key not in self._rope:  # every position the model can see, made once per grid and device
            frames = self.cfg.max_tokens // (grid[0] * grid[1]) + 1
            cos, sin = rope_3d(frames, *grid, self.cfg.head_dim)
            self._rope[key] = (cos.to(device), sin.to(device))
        cos, sin = self._rope[key]
        return cos[start : start + n], sin[start : start + n]

    def text(self, text: torch.Tensor | None) -> torch.Tensor | None:
        return None if text is None or self.text_norm is None else self.text_norm(text)

    def forward(
        self,
        inputs: torch.Tensor,
        start: int = 0,
        text: torch.Tensor | None = None,
        text_mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
        grid: tuple[int, int] | None = None,
        normalized_text: bool = False,
    ) -> torch.Tensor:
        """Logits [B, n, V] for slots start..start+n. ``inputs`` [B, n] are the tokens
        before each slot's target: token ids, or -1 for the start token (slot 0).
        ``cache`` holds slots 0..start-1 and is extended; ``normalized_text`` says ``text``
        already went through ``text()`` (callers decoding token by token do it once)."""
        n = inputs.shape[1]
        grid = grid or self.cfg.grid
        if start + n > self.cfg.max_tokens:
            raise ValueError(f"{start + n} tokens: the model sees at most {self.cfg.max_tokens}")
        x = self.embed(inputs.clamp_min(0))
        x = torch.where((inputs < 0)[..., None], self.start.to(x.dtype), x)
        x = x + self.position[start : start + n].to(x.dtype)
        rope = self.rope(start, n, grid, x.device)
        context = text if normalized_text else self.text(text)
        for i, block in enumerate(self.blocks):
            x = block(x, rope, context, text_mask, cache, i)
        return self.head(self.norm(x))


def shifted(tokens: torch.Tensor) -> torch.Tensor:
    """Token ids [B, N] -> each slot's input: the start token (-1), then tokens 0..N-2."""
    return torch.cat([torch.full_like(tokens[:, :1], -1), tokens[:, :-1]], 1)
