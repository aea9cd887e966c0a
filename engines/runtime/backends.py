"""The backends behind one call: ``engine(*inputs) -> outputs`` with torch tensors in and
out, inputs checked against the part first. ``torch`` runs the reference module;
``onnxruntime`` runs the exported ONNX on CPU, CUDA or TensorRT execution providers."""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .spec import Part
from .store import EngineError

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider",
             "tensorrt": "TensorrtExecutionProvider"}


class Engine(ABC):
    """A part on one backend."""

    backend = ""
    bounded = False  # True where the engine only takes sizes within the part's axes

    def __init__(self, part: Part, precision: str = "fp32") -> None:
        self.part, self.precision = part, precision

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The first output (most parts have one)."""
        return self.outputs(*inputs)[0]

    def outputs(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        self.part.check(inputs, self.bounded)
        with torch.no_grad():
            return self.run(inputs)

    @abstractmethod
    def run(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Every output, for inputs already checked."""

    def __repr__(self) -> str:
        return f"<{self.backend} engine {self.part.name} {self.precision}>"


class TorchEngine(Engine):
    backend = "torch"

    def __init__(self, part: Part, precision: str = "fp32") -> None:
        if precision != "fp32":
            raise EngineError(f"the torch backend runs the fp32 reference, not {precision}")
        super().__init__(part, precision)
        self.module = part.module()

    def run(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        out = self.module(*inputs)
        return tuple(out) if isinstance(out, tuple | list) else (out,)


def available_providers() -> list[str]:
    """The ONNX Runtime providers this install has, by our short names."""
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    have = set(ort.get_available_providers())
    return [short for short, full in PROVIDERS.items() if full in have]


def check_provider(provider: str) -> None:
    if provider not in available_providers():
        raise EngineError(f"ONNX Runtime here has no {provider} provider (it has "
                          f"{', '.join(available_providers())}); for cuda and tensorrt install "
                          f"'worldgraph[gpu]' on a machine with an NVIDIA GPU")


class OrtEngine(Engine):
    backend = "onnxruntime"

    def __init__(self, part: Part, model: Path, provider: str = "cpu", precision: str = "fp32",
                 threads: int | None = None, trt_cache: Path | None = None) -> None:
        super().__init__(part, precision)
        try:
            import onnxruntime as ort
        except ImportError:
            raise EngineError("the onnxruntime backend needs ONNX Runtime: pip install onnxruntime "
                              "(onnxruntime-gpu for CUDA: pip install 'worldgraph[gpu]')") from None
        check_provider(provider)
        self.provider = provider
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # threads sleep between runs instead of spinning: spinning ones took the cores from
        # the torch work between engine calls (the sampler's arithmetic ran 2-4x slower)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # no session.set_denormal_as_zero: it sets flush-to-zero on the calling thread too,
        # changing float arithmetic for everything else in the process
        options.log_severity_level = 3  # errors only: its warnings are about fusions it skipped
        providers: list[Any] = [PROVIDERS[provider]]
        if provider == "tensorrt":
            providers = [(PROVIDERS["tensorrt"], tensorrt_provider_options(part, precision, trt_cache)),
                         PROVIDERS["cuda"], PROVIDERS["cpu"]]
        elif provider == "cuda":
            providers.append(PROVIDERS["cpu"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.session = ort.InferenceSession(str(model), options, providers=providers)
        except Exception as e:  # ONNX Runtime raises its own exception types for bad files
            raise EngineError(f"{model}: ONNX Runtime cannot load it ({str(e).splitlines()[0]}): the file is "
                              f"truncated or not an export of {part.name}; rebuild it with "
                              f"`worldgraph engines build {part.name}`") from None
        names = [i.name for i in self.session.get_inputs()]
        if names != [p.name for p in part.inputs]:
            raise EngineError(f"{model}: inputs {names} are not those of {part.name} "
                              f"({[p.name for p in part.inputs]}); rebuild it")

    def run(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        feed = {p.name: np.ascontiguousarray(x.detach().cpu().numpy()) for p, x in zip(self.part.inputs, inputs,
                                                                                      strict=True)}
        return tuple(torch.from_numpy(np.asarray(y)) for y in self.session.run(None, feed))


def tensorrt_provider_options(part: Part, precision: str, cache: Path | None) -> dict[str, Any]:
    """ONNX Runtime's TensorRT provider: precision flags, its own engine cache in our entry,
    and the part's min/opt/max shapes as one profile."""
    shapes = {which: ",".join(f"{p.name}:" + "x".join(str(d if isinstance(d, int) else getattr(d, which))
                                                      for d in p.shape) for p in part.inputs)
              for which in ("min", "opt", "max")}
    options: dict[str, Any] = {
        "trt_fp16_enable": precision == "fp16",
        "trt_bf16_enable": precision == "bf16",
        "trt_profile_min_shapes": shapes["min"],
        "trt_profile_opt_shapes": shapes["opt"],
        "trt_profile_max_shapes": shapes["max"],
    }
    if cache is not None:
        options |= {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(cache)}
    return options
