"""Run a model part on a backend: ``engine(encoder("cv4x8x8"), "onnxruntime")(video)``,
the ``Part`` (``runtime.spec``) coming from the model's own family.

Backends: ``torch`` (the fp32 reference), ``onnxruntime`` (CPU, CUDA or TensorRT
execution providers), ``tensorrt`` (native engines). ``auto`` takes TensorRT where there
is a GPU and it is installed, else ONNX Runtime (CUDA before CPU), else torch: on CPU,
ONNX Runtime measured faster than torch eager for every shipped part at batch 1 and 8
(benchmarks/engine_speed.py). Built files live in the engine cache, built on first use.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path

from .backends import Engine, OrtEngine, TorchEngine, available_providers, check_provider
from .spec import EngineInputError, Part
from .store import EngineCache, EngineError, EngineKey, problem

__all__ = ["BACKENDS", "Engine", "EngineError", "EngineInputError", "Part", "Resolved", "engine", "key_for",
           "resolve"]

BACKENDS = ("auto", "torch", "onnxruntime", "tensorrt")
PRECISIONS = ("auto", "fp32", "fp16", "bf16", "int8")

Resolved = tuple[str, str, str]  # backend, provider (onnxruntime only, else ""), precision


def installed() -> list[str]:
    """The backends this install can run."""
    from .tensorrt import available as tensorrt_available

    found = ["torch"]
    if importlib.util.find_spec("onnxruntime") is not None:
        found.append("onnxruntime")
    if tensorrt_available():
        found.append("tensorrt")
    return found


def resolve(backend: str = "auto", precision: str = "auto", provider: str = "auto") -> Resolved:
    """Turn ``auto`` choices into concrete ones, or say why a choice cannot run here."""
    if backend not in BACKENDS:
        raise EngineError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if precision not in PRECISIONS:
        raise EngineError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    have = installed()
    if backend == "auto":
        backend = next(b for b in ("tensorrt", "onnxruntime", "torch") if b in have)
    if backend not in have:
        if backend == "tensorrt":
            from .tensorrt import import_tensorrt

            import_tensorrt()  # raises the message naming the gpu extra
        raise EngineError(f"the {backend} backend is not installed here (installed: {', '.join(have)})")
    if backend != "onnxruntime":
        provider = ""
    elif provider == "auto":
        provider = "cuda" if "cuda" in available_providers() else "cpu"
    else:
        check_provider(provider)
    if precision == "auto":
        precision = "fp16" if backend == "tensorrt" or provider == "tensorrt" else "fp32"
    allowed = {"torch": ("fp32",), "tensorrt": ("fp32", "fp16", "bf16")}.get(backend) or \
        {"cpu": ("fp32", "int8"), "cuda": ("fp32",), "tensorrt": ("fp32", "fp16", "bf16")}[provider]
    if precision not in allowed:
        where = f"{backend} ({provider})" if provider else backend
        raise EngineError(f"{where} runs {', '.join(allowed)}, not {precision}")
    return backend, provider, precision


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def installed_version(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "none"

    return ", ".join(f"{p} {installed_version(p)}" for p in ("torch", "onnx", "onnxscript", "onnxruntime",
                                                              "onnxruntime-gpu", "transformers"))


def key_for(part: Part, backend: str, precision: str, opset: int | None = None) -> EngineKey:
    """The cache key of ``part``'s files for a backend family (onnx or tensorrt)."""
    if opset is None:
        from ..export.onnx import OPSET

        opset = OPSET
    profile = ";".join(f"{a.name}:{a.min}/{a.opt}/{a.max}/{a.step}/{a.offset}" for a in part.axes().values())
    stored = "int8" if precision == "int8" else "fp32" if backend == "onnx" else precision
    return EngineKey(part.name, part.source()["sha256"], backend, stored, opset, profile, part.code_digest(),
                     versions())


def entry_state(entry: Path, record: dict[str, object], known: Mapping[str, Part]) -> str:
    """ok, or why a cache entry would not be used (it is rebuilt on next use); ``known``:
    the installed models' parts by name."""
    key = record.get("key")
    if not isinstance(key, dict):
        return "incomplete (no record)"
    part = known.get(str(key.get("part")))
    if part is None:
        return "for a model that is not installed"
    current = key_for(part, str(key.get("backend")), str(key.get("precision")), int(key.get("opset") or 0))
    if asdict(current) != key:
        return "stale: built from another checkpoint, profile or version"
    return problem(entry, current) or "ok"


def onnx_entry(part: Part, precision: str, cache_dir: EngineCache,
               notice: Callable[[str], None] | None = None) -> Path:
    """The cached ONNX file of ``part`` (fp32, or int8 quantized from the fp32 one), exported
    when missing."""
    from ..export import onnx as exporter

    if precision == "int8":
        fp32 = onnx_entry(part, "fp32", cache_dir, notice)
        entry = cache_dir.get(key_for(part, "onnx", "int8"),
                              lambda folder: exporter.quantize_int8(fp32, folder / "model.int8.onnx"), notice)
        return entry / "model.int8.onnx"
    entry = cache_dir.get(key_for(part, "onnx", "fp32"), lambda folder: exporter.export(part, folder / "model.onnx"),
                          notice)
    return entry / "model.onnx"


def build(part: Part, backend: str = "auto", precision: str = "auto", provider: str = "auto",
          root: Path | None = None, notice: Callable[[str], None] | None = None) -> Engine:
    """A fresh engine for ``part`` (building its files when the cache has none)."""
    backend, provider, precision = resolve(backend, precision, provider)
    if backend == "torch":
        return TorchEngine(part)
    store = EngineCache(root)
    if backend == "onnxruntime":
        model = onnx_entry(part, "int8" if precision == "int8" else "fp32", store, notice)
        trt_cache = model.parent / "tensorrt" if provider == "tensorrt" else None
        return OrtEngine(part, model, provider, precision, trt_cache=trt_cache)
    from .tensorrt import TensorRTEngine, build_plan

    model = onnx_entry(part, "fp32", store, notice)
    entry = store.get(key_for(part, "tensorrt", precision),
                      lambda folder: [build_plan(part, model, folder / "model.plan", precision)], notice)
    return TensorRTEngine(part, entry / "model.plan", precision)


def tell(message: str) -> None:
    print(f"worldgraph: {message}", file=sys.stderr, flush=True)


_made: dict[tuple[str, str, str, str, str, Path], Engine] = {}


def engine(part: Part, backend: str = "auto", precision: str = "auto", provider: str = "auto") -> Engine:
    """The engine for ``part``, made once per process for each checkpoint it is made from
    (a re-exported checkpoint gets a new one) and built once per machine."""
    chosen, _, chosen_precision = resolve(backend, precision, provider)
    key = (part.name, part.source()["sha256"], chosen, chosen_precision, provider, EngineCache().root)
    if key not in _made:
        _made[key] = build(part, backend, precision, provider, key[-1], tell)
    return _made[key]
