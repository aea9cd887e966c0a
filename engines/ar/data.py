"""Training data for the autoregressive model: every 17-frame window of a scene dataset's
clips (both RGB styles) as discrete token ids, plus its mirror image (physics is
left-right symmetric, and the mirrored clip's tokens are new sequences: twice the data for
a model that overfits easily), with the captions' MiniLM token embeddings, cached once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..tokenizer import checkpoint as tokenizers
from ..tokenizer.model import Tokenizer
from ..wfm.data import encode_windows, fingerprint


def token_fingerprint(model: Tokenizer) -> str:
    """What fixes which ids a clip becomes: the encoder's weights."""
    return fingerprint(model, ("encoder.",))


def discrete(name: str) -> Tokenizer:
    model = tokenizers.load(name)
    if model.fsq is None:
        raise ValueError(f"{name} is a continuous tokenizer; the autoregressive model needs discrete tokens")
    return model


def build_cache(data: Path, tokenizer: str, out: Path,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Token ids [N, 2 (as filmed, mirrored), T', h, w] (int16) of every window of ``data``."""
    model = discrete(tokenizer)

    def encode(video: torch.Tensor) -> torch.Tensor:
        ids = model.tokens(torch.cat([video, video.flip(-1)]).contiguous()).short()
        return ids.reshape(2, len(video), *ids.shape[1:]).transpose(0, 1)

    return encode_windows(data, encode, out, {"tokenizer": tokenizer, "token_fingerprint": token_fingerprint(model)},
                          progress=progress)


def load_cache(path: Path, tokenizer: str) -> dict[str, Any]:
    """The cached tensors, or a ValueError if another tokenizer made them."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        if meta.get("token_fingerprint") != token_fingerprint(discrete(tokenizer)):
            raise ValueError(f"{path}: made with another tokenizer checkpoint; delete it to re-encode")
        return {k: f.get_tensor(k) for k in f.keys()} | {"meta": meta}  # noqa: SIM118 (safe_open is not iterable)


class Batches:
    """Random batches of flattened token sequences and their (sometimes dropped) captions,
    held on the training device."""

    def __init__(self, cache: dict[str, Any], batch: int, text_drop: float, device: torch.device) -> None:
        tokens = cache["latents"]  # [N, views, T', h, w]
        self.tokens = tokens.flatten(2).long().to(device)  # [N, views, T'*h*w]
        self.caption_ids = cache["caption_ids"].long().to(device)
        self.text, self.text_mask = cache["text"].to(device), cache["text_mask"].to(device)
        self.null, self.null_mask = cache["null_text"].to(device), cache["null_mask"].to(device)
        self.batch, self.text_drop, self.device = batch, text_drop, device

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Token ids [B, N], text [B, L, D] and its mask [B, L]."""
        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(a).to(self.device)

        idx = tensor(rng.integers(0, len(self), self.batch))
        view = tensor(rng.integers(0, self.tokens.shape[1], self.batch))
        caps = self.caption_ids[idx]
        text, mask = self.text[caps].float(), self.text_mask[caps].clone()
        drop = tensor(rng.random(self.batch) < self.text_drop)
        text[drop], mask[drop] = self.null.float(), self.null_mask
        return self.tokens[idx, view], text, mask
