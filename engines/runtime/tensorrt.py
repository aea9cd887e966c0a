"""Native TensorRT: a serialized engine built from the part's ONNX with fp16/bf16/fp32 and
one optimization profile from the part's min/opt/max sizes, run on CUDA torch tensors.
``tensorrt`` is imported only here and only when asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .backends import Engine
from .spec import Axis, Part
from .store import EngineError

MISSING = ("the tensorrt backend needs TensorRT and an NVIDIA GPU: pip install 'worldgraph[gpu]' "
           "(the tensorrt wheels come from NVIDIA's index) with a CUDA build of torch")


def import_tensorrt() -> Any:
    try:
        import tensorrt
    except ImportError:
        raise EngineError(MISSING) from None
    if not torch.cuda.is_available():
        raise EngineError(f"TensorRT is installed but torch sees no CUDA GPU; {MISSING}")
    return tensorrt


def available() -> bool:
    try:
        import_tensorrt()
    except EngineError:
        return False
    return True


def profile_shapes(part: Part) -> dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    def sizes(shape: tuple[int | Axis, ...], which: str) -> tuple[int, ...]:
        return tuple(d if isinstance(d, int) else getattr(d, which) for d in shape)

    return {p.name: (sizes(p.shape, "min"), sizes(p.shape, "opt"), sizes(p.shape, "max")) for p in part.inputs}


def build_plan(part: Part, onnx_path: Path, plan: Path, precision: str) -> Path:
    """Parse the ONNX, build a serialized engine for ``precision``, write it to ``plan``."""
    trt = import_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10+
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):  # from a file, so external weights are found
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineError(f"{onnx_path}: TensorRT cannot parse it ({errors})")
    config = builder.create_builder_config()
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    elif precision == "bf16":
        config.set_flag(trt.BuilderFlag.BF16)
    elif precision != "fp32":
        raise EngineError(f"TensorRT builds fp32, fp16 or bf16 engines, not {precision}")
    profile = builder.create_optimization_profile()
    for name, (low, opt, high) in profile_shapes(part).items():
        profile.set_shape(name, low, opt, high)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineError(f"{part.name}: TensorRT could not build an engine (see its log above)")
    plan.write_bytes(bytes(serialized))
    return plan


TORCH_DTYPES = {"FLOAT": torch.float32, "HALF": torch.float16, "BF16": torch.bfloat16, "INT64": torch.int64,
                "INT32": torch.int32, "BOOL": torch.bool}


class TensorRTEngine(Engine):
    backend = "tensorrt"
    bounded = True  # built for one min/opt/max profile

    def __init__(self, part: Part, plan: Path, precision: str) -> None:
        super().__init__(part, precision)
        trt = import_tensorrt()
        self.runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = self.runtime.deserialize_cuda_engine(plan.read_bytes())
        if self.engine is None:
            raise EngineError(f"{plan}: TensorRT cannot load it (built by another TensorRT version or GPU?); "
                              f"delete it to rebuild")
        self.context = self.engine.create_execution_context()
        self.device = torch.device("cuda")

    def run(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        stream = torch.cuda.current_stream(self.device)
        keep = []
        for port, x in zip(self.part.inputs, inputs, strict=True):
            x = x.to(self.device).contiguous()
            keep.append(x)
            self.context.set_input_shape(port.name, tuple(x.shape))
            self.context.set_tensor_address(port.name, x.data_ptr())
        outputs = []
        for name in self.part.outputs:
            shape = tuple(self.context.get_tensor_shape(name))
            dtype = TORCH_DTYPES[self.engine.get_tensor_dtype(name).name]
            y = torch.empty(shape, dtype=dtype, device=self.device)
            self.context.set_tensor_address(name, y.data_ptr())
            outputs.append(y)
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise EngineError(f"{self.part.name}: TensorRT failed to run the engine")
        stream.synchronize()
        return tuple(y.float().cpu() if y.is_floating_point() else y.cpu() for y in outputs)
