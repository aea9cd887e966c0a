"""3D Haar wavelet patching, the first step of the Cosmos tokenizer.

One level splits time, height and width into averages and differences (kernel
[1/√2, ±1/√2]), giving 8 subbands stacked on channels at half the size in each
dimension. Two levels make a 4x4x4 patch. Time is made causal by repeating the first
frame in front, so a clip of 1 + 4k frames becomes 1 + k patches and the first patch
sees only the first frame.
"""

from __future__ import annotations

import math

import torch

_S = 1 / math.sqrt(2)


def _split(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Averages and differences of neighbouring pairs along ``dim``, stacked on channels."""
    even, odd = x.unflatten(dim, (-1, 2)).unbind(dim + 1)
    return torch.cat([(even + odd) * _S, (even - odd) * _S], dim=1)


def _merge(x: torch.Tensor, dim: int) -> torch.Tensor:
    low, high = x.chunk(2, dim=1)
    even, odd = (low + high) * _S, (low - high) * _S
    return torch.stack([even, odd], dim=dim + 1).flatten(dim, dim + 1)


def haar_forward(x: torch.Tensor, levels: int = 2) -> torch.Tensor:
    """[B, C, 1 + 4k, H, W] -> [B, C * 8**levels, 1 + k, H / 2**levels, W / 2**levels]."""
    patch = 2**levels
    x = torch.cat([x[:, :, :1].expand(-1, -1, patch - 1, -1, -1), x], dim=2)  # causal padding
    for _ in range(levels):
        for dim in (2, 3, 4):  # time, height, width
            x = _split(x, dim)
    return x


def haar_inverse(x: torch.Tensor, levels: int = 2) -> torch.Tensor:
    """The inverse of ``haar_forward``, dropping the repeated first frames."""
    for _ in range(levels):
        for dim in (4, 3, 2):
            x = _merge(x, dim)
    return x[:, :, 2**levels - 1 :]
