"""The ``backend`` input every model node has, and running a part on it with node errors."""

from __future__ import annotations

from typing import Any

from ..errors import NodeError
from ..schema import Input
from ..types import ENUM

BACKENDS = ("auto", "torch", "onnxruntime", "tensorrt")


def backend_input() -> Input:
    return Input("backend", ENUM, "auto", "where the model runs: auto takes TensorRT on a GPU, else ONNX Runtime "
                 "(engines are built once and cached), torch is the reference", choices=BACKENDS)


def part_engine(part: str, backend: str) -> Any:
    """The engine of ``part`` on ``backend``, its failures as node errors."""
    from worldgraph.engines.runtime import EngineError, engine

    try:
        return engine(part, backend)
    except EngineError as e:
        raise NodeError(str(e)) from None


def engine_errors() -> tuple[type[Exception], ...]:
    """What running an engine can raise that a node reports as its own error."""
    from worldgraph.engines.runtime import EngineError, EngineInputError
    from worldgraph.engines.weights import CheckpointError

    return EngineError, EngineInputError, CheckpointError
