"""Parity with the torch reference and speed, per part and backend: what
``worldgraph engines verify`` / ``bench`` and benchmarks/engine_speed.py report."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from . import Engine, engine
from .backends import OrtEngine
from .spec import Part

INT8_TOLERANCE = 0.1  # int8 trades accuracy for speed: verify reports it and allows this much


def verify(part: Part, backend: str, precision: str = "auto", provider: str = "auto") -> dict[str, Any]:
    """Max abs difference to torch at batch 1 and 3 (usual sizes) and at the smallest
    sizes, and whether it is within the part's tolerance."""
    run, reference = engine(part, backend, precision, provider), engine(part, "torch")
    worst = 0.0
    cases = [{"batch": 1}, {"batch": 3}, {name: axis.min for name, axis in part.axes().items()}]
    for i, sizes in enumerate(cases):
        inputs = part.example(sizes, seed=i)
        got, want = run(*inputs), reference(*inputs)
        if got.shape != want.shape:
            return {"part": part.name, "backend": run.backend, "precision": run.precision, "ok": False,
                    "reason": f"output shape {list(got.shape)} differs from torch's {list(want.shape)} at {sizes}"}
        worst = max(worst, float((got.float() - want.float()).abs().max()))
    tolerance = INT8_TOLERANCE if run.precision == "int8" else part.tolerance
    return {"part": part.name, "backend": run.backend, "precision": run.precision, "max_abs_diff": worst,
            "tolerance": tolerance, "ok": worst <= tolerance}


def time_call(f: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls after a warm-up. Backends are timed one after the
    other, not interleaved: each one's idle threads would slow the call that follows."""
    f()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def calling(run: Engine, inputs: tuple[torch.Tensor, ...]) -> Callable[[], object]:
    return lambda: run(*inputs)


Choice = tuple[str, str, str]  # backend, precision, provider


def parse_choice(text: str) -> Choice:
    """``backend[/provider][:precision]``, e.g. ``onnxruntime/cuda:fp32`` or ``tensorrt:fp16``."""
    head, _, precision = text.partition(":")
    backend, _, provider = head.partition("/")
    return backend, precision or "auto", provider or "auto"


def bench(part: Part, choices: list[Choice], batches: tuple[int, ...] = (1, 8),
          repeat: int = 10) -> list[dict[str, Any]]:
    """ms per call for each (backend, precision, provider) at each batch size, and the
    speed-up over torch eager measured in the same run."""
    rows = []
    runs = [engine(part, *choice) for choice in choices]
    for batch in batches:
        inputs = part.example({"batch": batch})
        base = time_call(calling(engine(part, "torch"), inputs), repeat)
        for run in runs:
            seconds = time_call(calling(run, inputs), repeat)
            backend = f"{run.backend}/{run.provider}" if isinstance(run, OrtEngine) else run.backend
            rows.append({"part": part.name, "batch": batch, "backend": backend, "precision": run.precision,
                         "ms": round(seconds * 1e3, 2), "torch_ms": round(base * 1e3, 2),
                         "speedup": round(base / seconds, 2)})
    return rows
