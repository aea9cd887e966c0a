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


def use_backend(graph: Any, backend: str) -> list[str]:
    """Set the backend of every model node in ``graph``; returns their paths."""
    changed = []
    for node in graph.nodes.values():
        if node.type_id in graph.registry and graph.registry.get(node.type_id).schema.input("backend"):
            graph.set_value(node.path, "backend", backend)
            changed.append(node.path)
    return changed


def part_engine(part: Any, backend: str) -> Any:
    """The engine of ``part`` (a ``runtime.spec.Part`` from the model's family) on
    ``backend``, its failures as node errors."""
    from worldgraph.engines.runtime import EngineError, engine
    from worldgraph.engines.weights import CheckpointError

    try:
        return engine(part, backend)
    except (EngineError, CheckpointError) as e:
        raise NodeError(str(e)) from None


def engine_errors() -> tuple[type[Exception], ...]:
    """What running an engine can raise that a node reports as its own error."""
    from worldgraph.engines.runtime import EngineError, EngineInputError
    from worldgraph.engines.weights import CheckpointError

    return EngineError, EngineInputError, CheckpointError
