"""torch -> ONNX for one part: the dynamo exporter with the part's dynamic axes, weights
as external data when they are large, and metadata naming what it was built from."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import torch

from ..runtime.spec import Axis, Part

OPSET = 23  # emits the fused Attention op (ONNX Runtime's CPU kernel runs it)
EXTERNAL_BYTES = 16 << 20  # weights above this go to model.onnx.data


class ExportError(RuntimeError):
    """The exporter could not turn a part into ONNX; the message names the part."""


def dynamic_shapes(part: Part) -> tuple[dict[int, object], ...]:
    """torch.export dims per input: ``offset + step * k`` with k a named Dim."""
    dims: dict[str, object] = {}

    def dim(axis: Axis) -> object:
        if axis.name not in dims:
            base = torch.export.Dim(axis.name if axis.step == 1 and not axis.offset else f"{axis.name}_k",
                                    min=(axis.min - axis.offset) // axis.step,
                                    max=(axis.max - axis.offset) // axis.step)
            dims[axis.name] = base if axis.step == 1 and not axis.offset else axis.step * base + axis.offset
        return dims[axis.name]

    return tuple({i: dim(d) for i, d in enumerate(port.shape) if isinstance(d, Axis)} for port in part.inputs)


def export(part: Part, path: Path, opset: int = OPSET) -> list[Path]:
    """Write ``path`` (and its external data file when the weights are large); returns the files."""
    module = part.module().eval()
    args = part.example()
    size = sum(p.numel() * p.element_size() for p in module.parameters())
    external = size > EXTERNAL_BYTES
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it logs every torchvision op it cannot register
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module, args, dynamo=True, opset_version=opset, verbose=False,
                input_names=[p.name for p in part.inputs], output_names=list(part.outputs),
                dynamic_shapes=dynamic_shapes(part), external_data=external,
            )
    except Exception as e:  # the exporter raises many kinds; all mean the same to a user
        raise ExportError(f"{part.name}: torch could not export it to ONNX ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''})") from e
    finally:
        quiet.setLevel(level)
    assert program is not None
    source = part.source()
    program.model.metadata_props.update({
        "worldgraph.part": part.name,
        "worldgraph.checkpoint_sha256": source["sha256"],
        "worldgraph.config": json.dumps(source["config"], sort_keys=True),
        "worldgraph.opset": str(opset),
        "worldgraph.torch": torch.__version__,
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path), external_data=external)
    data = path.with_name(path.name + ".data")
    return [path, data] if external and data.exists() else [path]


def metadata(path: Path) -> dict[str, str]:
    """The metadata an exported file carries (no weights are read)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def quantize_int8(source: Path, target: Path) -> list[Path]:
    """Dynamic int8 quantization of the MatMul weights (activations stay float, quantized on
    the fly), for ONNX Runtime on CPU."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # it advises pre-processing on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
    finally:
        logging.disable(logging.NOTSET)
    return [target]
