"""Checked entry points between frames and the tokenizer: input rules with clear errors,
and the 1 + 4k frame-count rule."""

from __future__ import annotations

import numpy as np
import torch

TEMPORAL, SPATIAL = 4, 8  # compression: 4x in time (after the first frame), 8x in space


class TokenizerInputError(ValueError):
    """Frames the tokenizer cannot take; the message says what is wrong and what would do."""


def valid_frames(n: int) -> tuple[int, int]:
    """The valid frame counts (1 + 4k) just below and just above ``n``."""
    below = 1 + TEMPORAL * max(0, (n - 1) // TEMPORAL)
    return below, below + TEMPORAL if below < n else below


def check_frames(n: int, pad: bool = False) -> int:
    """The frame count to encode ``n`` frames at: ``n`` itself when it is 1 + 4k, the next
    valid count when ``pad``; otherwise an error naming the nearest valid counts."""
    if n < 1:
        raise TokenizerInputError("the clip has no frames")
    below, above = valid_frames(n)
    if n == below:
        return n
    if pad:
        return above
    raise TokenizerInputError(
        f"{n} frames: the tokenizer takes 1 + 4k frames (1, 5, 9, 13, 17, ...); the nearest are "
        f"{below} and {above}: trim the clip, or pad it (the encode node's pad input repeats the "
        f"last frame)"
    )


def frames_to_input(frames: np.ndarray, pad: bool = False) -> torch.Tensor:
    """uint8 RGB frames [T, H, W, 3] -> model input [1, 3, T', H, W] in [-1, 1]."""
    if frames.dtype != np.uint8:
        raise TokenizerInputError(
            f"expected uint8 RGB frames (0..255), got {frames.dtype}: convert floats with "
            f"(x * 255).round().astype(np.uint8), or pass a tensor in [-1, 1] to the model"
        )
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise TokenizerInputError(f"expected frames [T, H, W, 3] (RGB), got shape {list(frames.shape)}")
    n = check_frames(frames.shape[0], pad)
    if n > frames.shape[0]:
        frames = np.concatenate([frames, np.repeat(frames[-1:], n - frames.shape[0], axis=0)])
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    check_input(x)
    return x


def check_input(x: torch.Tensor) -> None:
    """Raise for anything the model would silently get wrong."""
    if not x.is_floating_point():
        raise TokenizerInputError(f"expected a float tensor in [-1, 1], got {x.dtype} (uint8 frames "
                                  f"go through frames_to_input)")
    if x.dim() != 5:
        raise TokenizerInputError(f"expected [B, 3, T, H, W], got {x.dim()} dimensions {list(x.shape)}")
    b, c, t, h, w = x.shape
    if c != 3:
        raise TokenizerInputError(f"expected 3 colour channels (RGB), got {c}")
    if h % SPATIAL or w % SPATIAL or h == 0 or w == 0:
        raise TokenizerInputError(
            f"height and width must be multiples of {SPATIAL}, got {h}x{w} "
            f"(e.g. {max(SPATIAL, h - h % SPATIAL)}x{max(SPATIAL, w - w % SPATIAL)})"
        )
    check_frames(t)
    if not torch.isfinite(x).all():
        raise TokenizerInputError("the input holds NaN or infinite values")
    if x.abs().max() > 1.5:
        raise TokenizerInputError(
            f"values reach {x.abs().max().item():.3g}: the model takes [-1, 1] "
            f"(0..255 frames look like this: divide by 127.5 and subtract 1)"
        )


def videos_to_frames(y: torch.Tensor) -> np.ndarray:
    """Videos [B, 3, T, H, W] in [-1, 1] -> uint8 frames [B, T, H, W, 3]."""
    return ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).numpy()


def output_to_frames(y: torch.Tensor, frames: int | None = None) -> np.ndarray:
    """Model output [1, 3, T, H, W] in [-1, 1] -> uint8 [T, H, W, 3] (first ``frames`` kept)."""
    video = videos_to_frames(y[:1])[0]
    return np.ascontiguousarray(video[:frames] if frames else video)
