"""Semantic deduplication: clips whose tokenizer-encoder embeddings point the same way.

A clip's embedding is the continuous tokenizer's latent of 9 evenly spaced frames (at the
tokenizer's 64x64), normalized with the checkpoint's latent statistics and flattened over
time and its 8x8 grid (so the layout of the picture and when things move count, not only
colours), then scaled to unit length. Measured on simulated clips: a re-encoded,
brightened copy scores 0.97-0.99, the next clip of the same shot 0.66-0.96, different
scenes under 0.4. Clips are visited in order and one is dropped when its
cosine similarity to a clip already kept reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import cv2
import numpy as np

TOKENIZER = "cv4x8x8"
SIZE = 64  # what the shipped tokenizers were trained at
FRAMES = 9  # evenly spaced frames of a clip are encoded (1 + 4k, as the tokenizer takes)


@cache
def _encoder(name: str) -> Any:
    from ..tokenizer import checkpoint

    model = checkpoint.load(name).eval()
    if model.fsq is not None:
        raise ValueError(f"{name} is a discrete tokenizer; deduplication needs a continuous one (e.g. cv4x8x8)")
    return model


def thumbnails(frames: np.ndarray) -> np.ndarray:
    """The frames a clip is embedded from: uint8 [9, 64, 64, 3], evenly spaced (a short
    clip repeats frames)."""
    picks = np.linspace(0, len(frames) - 1, FRAMES).round().astype(int)
    return np.stack([cv2.resize(frames[i], (SIZE, SIZE), interpolation=cv2.INTER_AREA) for i in picks])


def embed(clips: Sequence[np.ndarray], tokenizer: str = TOKENIZER, batch: int = 8) -> np.ndarray:
    """Unit-length embeddings, float32 [N, C * T' * 8 * 8], of clips (uint8 [T, H, W, 3]
    each), encoded ``batch`` at a time (about 5x faster per clip than one by one on a CPU)."""
    import torch

    model = _encoder(tokenizer)
    mean = model.latent_mean.reshape(1, -1, 1, 1, 1)
    std = model.latent_std.reshape(1, -1, 1, 1, 1)
    out = []
    for start in range(0, len(clips), batch):
        small = np.stack([c if c.shape[1:3] == (SIZE, SIZE) and len(c) == FRAMES else thumbnails(c)
                          for c in clips[start : start + batch]])
        x = torch.from_numpy(small).permute(0, 4, 1, 2, 3).float() / 127.5 - 1  # [B, 3, T, H, W]
        with torch.no_grad():
            z = (model.encode(x) - mean) / std  # [B, C, T', 8, 8]
        v = z.flatten(1).double().numpy()  # [B, C * T' * 8 * 8]: when things happen counts too
        out.append(v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12))
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def duplicates(embeddings: Sequence[np.ndarray], threshold: float = 0.97) -> dict[int, tuple[int, float]]:
    """{dropped index: (the kept index it copies, cosine similarity)}, greedily in order."""
    kept: list[int] = []
    dropped: dict[int, tuple[int, float]] = {}
    for i, e in enumerate(embeddings):
        if kept:
            sims = np.stack([embeddings[k] for k in kept]) @ e
            best = int(np.argmax(sims))
            if float(sims[best]) >= threshold:
                dropped[i] = (kept[best], float(sims[best]))
                continue
        kept.append(i)
    return dropped
