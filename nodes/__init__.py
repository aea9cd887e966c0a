"""The node system: port types, schemas, registry, graph model, validation, executor and
the USD graph format. The core needs only the standard library, numpy and (for files)
usd-core; node families import their engines lazily, inside compute."""

from .cache import OutputCache
from .context import CancelToken, Context
from .errors import (
    Blocked,
    Cancelled,
    GraphEditError,
    GraphFileError,
    NodeError,
    UnknownNodeType,
    WorldgraphError,
)
from .executor import Executor, RunResult, node_seed
from .graph import Connection, Graph, NodeInstance
from .problems import GraphInvalid, Problem
from .registry import Registry, default_registry
from .schema import REQUIRED, Input, NodeSchema, NodeType, Output, node
from .usd_graph import graph_to_usda, load_graph, save_graph
from .validate import validate

__all__ = [
    "REQUIRED", "Blocked", "CancelToken", "Cancelled", "Connection", "Context", "Executor",
    "Graph", "GraphEditError", "GraphFileError", "GraphInvalid", "Input", "NodeError",
    "NodeInstance", "NodeSchema", "NodeType", "Output", "OutputCache", "Problem", "Registry",
    "RunResult", "UnknownNodeType", "WorldgraphError", "default_registry", "graph_to_usda",
    "load_graph", "node", "node_seed", "save_graph", "validate",
]
