"""Where a run computes: the checked device, and bf16 autocast where it is fast."""

from __future__ import annotations

import contextlib
from functools import cache
from pathlib import Path

import torch


@cache
def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX). Without it bf16
    autocast is emulated: 3-4x slower for the DiT and 40x for the tokenizer's convolutions
    (measured on an AVX2-only machine), so training stays fp32 there."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device: str | torch.device = "cpu") -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on CUDA and on CPUs with native bf16, fp32 otherwise."""
    kind = torch.device(device).type
    if kind == "cuda" or (kind == "cpu" and native_bf16()):
        return torch.autocast(kind, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def training_device(name: str) -> torch.device:
    """``cpu`` or ``cuda[:N]``, checked before a run starts (not at its first step)."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use cpu or cuda[:N]") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: this torch build sees no CUDA GPU")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r}: training runs on cpu or cuda")
    return device


def scheduled_lr(base: float, step: int, warmup: int, decay_steps: int) -> float:
    """Linear warm-up, then a cosine down to 10 % of ``base`` by ``decay_steps``, then flat."""
    import math

    lr = base * min(1.0, (step + 1) / warmup)
    decay = min(step, decay_steps) / decay_steps
    return lr * (0.5 * (1 + math.cos(math.pi * decay)) * 0.9 + 0.1)
