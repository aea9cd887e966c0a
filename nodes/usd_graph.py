"""Graphs as OmniGraph-style USD prims.

    def OmniGraph "Edges" {
        token evaluator:type = "worldgraph"
        int fileFormatVersion = 1
        def OmniGraphNode "canny" (prepend apiSchemas = ["NodeGraphNodeAPI"]) {
            custom token node:type = "worldgraph.controls.Canny"
            custom int node:typeVersion = 1
            custom token inputs:preset = "medium"
            prepend token inputs:video.connect = </Edges/load.outputs:video>
            uniform float2 ui:nodegraph:node:pos = (260, 0)
        }
    }

Loading never stops at the first problem inside the graph: what it cannot make sense of
becomes a ``Problem`` in ``graph.load_problems``, reported with the validator's. Only a
file that is not a readable USD graph at all raises ``GraphFileError``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .errors import GraphFileError
from .graph import Connection, Graph, NodeInstance
from .problems import Problem
from .registry import Registry
from .schema import NodeSchema

EVALUATOR = "worldgraph"
FILE_FORMAT_VERSION = 1
USD_SUFFIXES = (".usda", ".usd", ".usdc")

_GRAPH_TYPE, _NODE_TYPE = "OmniGraph", "OmniGraphNode"
_TYPE_ATTR, _VERSION_ATTR, _SEED_ATTR = "node:type", "node:typeVersion", "worldgraph:seed"


# ------------------------------------------------------------------------------ load


def load_graph(path: str | os.PathLike[str], registry: Registry | None = None) -> Graph:
    """Read the graph in a USD file; relative assets resolve from the file's folder."""
    from pxr import Tf

    file = Path(path)
    stage = _open_stage(file)
    try:
        return _read_graph(stage, file, registry)
    except Tf.ErrorException as e:  # USD refusing to hand back what the file says
        raise GraphFileError(f"{file}: cannot read the graph: {_usd_reason(str(e))}") from None


def _read_graph(stage: Any, file: Path, registry: Registry | None) -> Graph:
    root = _graph_prim(stage, file)
    graph = Graph(str(root.GetPath()), registry=registry, base_dir=file.resolve().parent)
    try:
        seed = _authored(root.GetAttribute(_SEED_ATTR), default=0)
    except ValueError as e:
        seed = str(e)
    if isinstance(seed, int) and not isinstance(seed, bool):
        graph.seed = seed
    else:
        graph.load_problems.append(
            Problem(graph.path, None, "bad-value", f"{_SEED_ATTR} must be an int, got {seed!r:.60}")
        )
    for prim in root.GetChildren():
        if prim.GetTypeName() != _NODE_TYPE:
            graph.load_problems.append(
                Problem(str(prim.GetPath()), None, "not-a-node",
                        f"child of the graph is a {prim.GetTypeName() or 'typeless'} prim, "
                        f"not an {_NODE_TYPE}")
            )
            continue
        node = _read_node(prim, graph)
        if node is not None:
            graph.nodes[node.path] = node
    return graph


def _open_stage(file: Path) -> Any:
    from pxr import Tf, Usd

    if not file.exists():
        raise GraphFileError(f"{file}: no such file")
    if file.is_dir():
        raise GraphFileError(f"{file}: is a folder, not a USD graph file")
    if file.suffix.lower() not in USD_SUFFIXES:
        raise GraphFileError(f"{file}: not a USD file (expected {', '.join(USD_SUFFIXES)})")
    if file.stat().st_size == 0:
        raise GraphFileError(f"{file}: the file is empty")
    try:
        return Usd.Stage.Open(str(file), Usd.Stage.LoadNone)
    except Tf.ErrorException as e:
        reason = _usd_reason(str(e)).replace(f"{file.resolve()}:", "line ")
        raise GraphFileError(f"{file}: cannot read as USD: {reason}") from None


def _usd_reason(text: str) -> str:
    """The first message in a USD error dump, without its C++ location."""
    found = re.search(r" : '(.*?)'\s*(?:\n|$)", text, flags=re.S)
    reason = found.group(1).strip() if found else text.strip().splitlines()[0]
    return reason.replace("is not a valid usda layer", "is not valid USD text")


def _graph_prim(stage: Any, file: Path) -> Any:
    graphs = [p for p in stage.Traverse() if p.GetTypeName() == _GRAPH_TYPE]
    default = stage.GetDefaultPrim()
    if default and default.GetTypeName() == _GRAPH_TYPE:
        graphs = [default]
    if not graphs:
        raise GraphFileError(f"{file}: no {_GRAPH_TYPE} prim: this file holds no graph")
    if len(graphs) > 1:
        names = ", ".join(str(p.GetPath()) for p in graphs)
        raise GraphFileError(
            f"{file}: holds several graphs ({names}) and its defaultPrim names none of them"
        )
    return graphs[0]


def _read_node(prim: Any, graph: Graph) -> NodeInstance | None:
    path = str(prim.GetPath())

    def problem(input_name: str | None, code: str, reason: str) -> None:
        graph.load_problems.append(Problem(path, input_name, code, reason))

    try:
        type_id = _authored(prim.GetAttribute(_TYPE_ATTR))
    except ValueError:
        type_id = None
    if not isinstance(type_id, str) or not type_id:
        problem(None, "unknown-type", f"the node has no {_TYPE_ATTR} token")
        return None
    try:
        version = _authored(prim.GetAttribute(_VERSION_ATTR), default=1)
    except ValueError as e:
        version = str(e)
    if not isinstance(version, int) or isinstance(version, bool):
        problem(None, "bad-value", f"{_VERSION_ATTR} must be an int, got {version!r:.40}")
        version = 1
    node = NodeInstance(path, type_id, version)

    for attr in prim.GetAttributes():
        name = attr.GetName()
        if not name.startswith("inputs:"):
            continue
        input_name = name.removeprefix("inputs:")
        targets = attr.GetConnections()
        if len(targets) > 1:
            problem(input_name, "dangling-connection", f"has {len(targets)} connections; an input takes one")
        elif targets:
            target = targets[0]
            prop = target.name if target.IsPropertyPath() else ""
            if prop.startswith("outputs:"):
                node.connections[input_name] = Connection(
                    str(target.GetPrimPath()), prop.removeprefix("outputs:")
                )
            else:
                problem(input_name, "dangling-connection",
                        f"connects to {target}, which is not a node output (<node>.outputs:<name>)")
        else:
            try:
                value = _authored(attr)
            except ValueError as e:
                problem(input_name, "bad-value", str(e))
            else:
                if value is not None:
                    node.values[input_name] = _from_usd(value)
        node.authored_types[input_name] = str(attr.GetTypeName())

    try:
        pos = _authored(prim.GetAttribute("ui:nodegraph:node:pos"))
        if pos is not None:
            node.pos = (float(pos[0]), float(pos[1]))
    except (TypeError, ValueError, IndexError):
        problem(None, "bad-value", "ui:nodegraph:node:pos must be a float2 (x, y)")

    _upgrade(node, graph)
    return node


def _authored(attr: Any, default: Any = None) -> Any:
    """An attribute's authored value, ``default`` when there is none; ValueError when USD
    cannot hand back what was authored (e.g. a path written into a token)."""
    from pxr import Tf

    if not attr or not attr.HasAuthoredValue():
        return default
    try:
        return attr.Get()
    except Tf.ErrorException as e:
        raise ValueError(f"{attr.GetName()}: cannot read its value ({_usd_reason(str(e))})") from None


def _from_usd(value: Any) -> Any:
    from pxr import Sdf

    # asset paths as authored (relative ones resolve at run time); anything else, such as
    # an input of an unknown node type, stays the USD value it was, so it saves back as it was
    return value.path if isinstance(value, Sdf.AssetPath) else value


def _upgrade(node: NodeInstance, graph: Graph) -> None:
    """Bring an old node's inputs up to the current version of its type."""
    if node.type_id not in graph.registry:
        return
    node_type = graph.registry.get(node.type_id)
    current = node_type.schema.version
    if node.type_version >= current:
        return
    if node_type.upgrade is not None:
        node.values = node_type.upgrade(node.type_version, dict(node.values))
    node.type_version = current


# ------------------------------------------------------------------------------ save


def graph_to_usda(graph: Graph, into: str | os.PathLike[str] | None = None) -> str:
    """The graph as .usda text; with ``into``, the rest of that file's stage is kept."""
    from pxr import Sdf, Tf, Usd

    if into is not None and Path(into).exists() and Path(into).stat().st_size > 0:
        try:
            layer = Sdf.Layer.FindOrOpen(str(into))
            layer.Reload()
        except Tf.ErrorException as e:
            raise GraphFileError(
                f"{into}: will not overwrite a file that is not USD ({_usd_reason(str(e))})"
            ) from None
        stage = Usd.Stage.Open(layer)
        stage.RemovePrim(graph.path)
    else:
        stage = Usd.Stage.CreateInMemory()
    _write_graph(stage, graph)
    if not stage.GetDefaultPrim():
        stage.SetDefaultPrim(stage.GetPrimAtPath(graph.path))
    return str(stage.GetRootLayer().ExportToString())


def save_graph(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write the graph to ``path`` (atomically); other prims already in that file stay."""
    file = Path(path)
    if file.suffix.lower() != ".usda":
        raise GraphFileError(f"{file}: graphs are saved as .usda text")
    text = graph_to_usda(graph, into=file)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_graph(stage: Any, graph: Graph) -> None:
    from pxr import Gf, Sdf, UsdUI

    root = stage.DefinePrim(graph.path, _GRAPH_TYPE)
    root.CreateAttribute("evaluator:type", Sdf.ValueTypeNames.Token, custom=False).Set(EVALUATOR)
    root.CreateAttribute("fileFormatVersion", Sdf.ValueTypeNames.Int, custom=False).Set(
        FILE_FORMAT_VERSION
    )
    root.CreateAttribute(_SEED_ATTR, Sdf.ValueTypeNames.Int64).Set(graph.seed)
    for node in graph.nodes.values():
        prim = stage.DefinePrim(node.path, _NODE_TYPE)
        UsdUI.NodeGraphNodeAPI.Apply(prim)
        prim.CreateAttribute(_TYPE_ATTR, Sdf.ValueTypeNames.Token).Set(node.type_id)
        prim.CreateAttribute(_VERSION_ATTR, Sdf.ValueTypeNames.Int).Set(node.type_version)
        schema = graph.registry.get(node.type_id).schema if node.type_id in graph.registry else None
        for name in _input_order(node, schema):
            attr = prim.CreateAttribute(f"inputs:{name}", _usd_type(schema, name, node))
            if name in node.connections:
                conn = node.connections[name]
                attr.AddConnection(Sdf.Path(conn.node).AppendProperty(f"outputs:{conn.output}"))
            else:
                attr.Set(_to_usd(node.values[name], attr.GetTypeName()))
        if node.pos is not None:
            UsdUI.NodeGraphNodeAPI(prim).CreatePosAttr(Gf.Vec2f(*node.pos))


def _input_order(node: NodeInstance, schema: NodeSchema | None) -> list[str]:
    """Schema order first, then anything else sorted: stable across save/load/save."""
    present = set(node.values) | set(node.connections)
    known = [i.name for i in schema.inputs if i.name in present] if schema else []
    return known + sorted(present - set(known))


def _usd_type(schema: NodeSchema | None, name: str, node: NodeInstance) -> Any:
    from pxr import Sdf

    spec = schema.input(name) if schema else None
    if spec is not None and (name in node.connections or spec.type.check(node.values[name]) is None):
        return Sdf.ValueTypeNames.Find(spec.type.usd or "token")
    # inputs the schema does not explain keep the type they were read with: nothing is lost
    return Sdf.ValueTypeNames.Find(node.authored_types[name])


def _to_usd(value: Any, type_name: Any) -> Any:
    from pxr import Sdf

    if type_name == Sdf.ValueTypeNames.Asset:
        return Sdf.AssetPath(value)
    return value

