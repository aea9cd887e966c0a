"""The canvas: NodeGraphQt draws the graph; the document owns it.

NodeGraphQt normally keeps its own model and undo stack. Here its views only mirror
``GraphDocument``: user gestures (connect, cut, move, tab-search add) are turned into
document edits, and document changes are drawn back with NodeGraphQt's no-undo calls.
Node identity is the prim path; NodeGraphQt's ids (memory addresses) never leave here."""

from __future__ import annotations

import warnings
from typing import Any

from NodeGraphQt import BaseNode, NodeGraph
from NodeGraphQt.widgets.viewer import NodeViewer
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QCursor, QUndoStack
from PySide6.QtWidgets import QGraphicsItem, QToolTip

from worldgraph.nodes import GraphEditError, NodeInstance, NodeSchema, Registry

from .badges import StateBadge
from .document import GraphDocument
from .layout import layered_positions
from .style import family_color, port_color

UNKNOWN_TYPE = "worldgraph.unknown.UnknownNode"
FAR = 0.5  # below this scale node text is too small to read: draw nodes from a cache


class CanvasViewer(NodeViewer):
    """NodeGraphQt's view, telling the canvas when the zoom crosses ``FAR``.

    Zoomed out, every node is repainted in Python on each zoom step (about 100 ms for
    200 nodes); caching each node in its own coordinates makes a step a scaled blit
    (about 20 ms). Zoomed in, the per-device cache keeps text sharp."""

    far = False  # class defaults: NodeViewer's __init__ already updates the scene
    on_far: Any = None

    def __init__(self, undo_stack: QUndoStack) -> None:
        super().__init__(undo_stack=undo_stack)

    def _update_scene(self) -> None:
        super()._update_scene()
        far = self.transform().m11() < FAR
        if far != self.far:
            self.far = far
            if self.on_far is not None:
                self.on_far(far)


class WorldNode(BaseNode):
    """A node view. Subclasses per node type are made from schemas by ``node_class``."""

    __identifier__ = "worldgraph"
    NODE_NAME = "node"
    SCHEMA: NodeSchema | None = None
    PORT_INPUTS: tuple[str, ...] = ()


class UnknownNode(WorldNode):
    """A node whose type is not registered: drawn (in red) so it can be seen and fixed."""

    __identifier__ = "worldgraph.unknown"
    NODE_NAME = "unknown"


def connectable_inputs(registry: Registry, schema: NodeSchema) -> tuple[str, ...]:
    """Inputs some output in the registry can feed: they get a port; the rest are values
    edited in the properties panel, which keeps nodes small."""
    outputs = {o.type for t in registry for o in t.schema.outputs}
    return tuple(i.name for i in schema.inputs if any(i.type.accepts(o) for o in outputs))


def node_class(schema: NodeSchema, port_inputs: tuple[str, ...]) -> type[WorldNode]:
    identifier, name = schema.id.rsplit(".", 1)

    def __init__(self: WorldNode) -> None:  # noqa: N807
        WorldNode.__init__(self)
        for i in schema.inputs:
            if i.name in port_inputs:
                self.add_input(i.name, color=port_color(i.type.name))
        for o in schema.outputs:
            self.add_output(o.name, multi_output=True, color=port_color(o.type.name))

    return type(name, (WorldNode,), {"__identifier__": identifier, "NODE_NAME": name,
                                     "SCHEMA": schema, "PORT_INPUTS": port_inputs,
                                     "__init__": __init__})


class Canvas(NodeGraph):
    selection_changed = Signal(list)  # prim paths
    refused = Signal(str)  # why a connection gesture was refused

    def __init__(self, doc: GraphDocument) -> None:
        with warnings.catch_warnings():  # NodeGraphQt 0.6 compares Qt versions with distutils
            warnings.filterwarnings("ignore", "distutils Version classes", DeprecationWarning)
            stack = QUndoStack()  # NodeGraphQt's own; the document's stack is the real one
            viewer = CanvasViewer(stack)
            super().__init__(undo_stack=stack, viewer=viewer)
        viewer.on_far = lambda far: self._cache_all()
        self.doc = doc
        self.set_acyclic(False)  # cycles are the document's to refuse, with a reason
        self.set_pipe_collision(False)
        self.set_background_color(30, 31, 36)
        self.set_grid_color(40, 42, 48)
        self.views: dict[str, WorldNode] = {}
        self.badges: dict[str, StateBadge] = {}
        self.last_refusal = ""
        self.register_node(UnknownNode)
        for t in doc.registry:
            self.register_node(node_class(t.schema, connectable_inputs(doc.registry, t.schema)))
        doc.reset.connect(self.rebuild)
        doc.changed.connect(lambda paths: self.sync(paths))
        self.node_selection_changed.connect(lambda *_: self.selection_changed.emit(self.selected_paths()))
        self.rebuild()

    # ------------------------------------------------------------------ model -> view

    def rebuild(self) -> None:
        for node in list(self.views.values()):
            self.delete_node(node, push_undo=False)
        self.views.clear()
        self.badges.clear()
        self.undo_stack().clear()
        graph = self.doc.graph
        layout = layered_positions(graph) if any(n.pos is None for n in graph.nodes.values()) else {}
        for path, inst in graph.nodes.items():
            self._create(inst, layout.get(path))
        for path in graph.nodes:
            self._sync_inputs(path)

    def sync(self, paths: set[str]) -> None:
        graph = self.doc.graph
        for path in sorted(paths):
            if path not in graph.nodes and path in self.views:
                self.delete_node(self.views.pop(path), push_undo=False)
                self.badges.pop(path, None)
        for path in sorted(paths):
            inst = graph.nodes.get(path)
            if inst is None:
                continue
            if path not in self.views:
                self._create(inst, None)
            elif inst.pos is not None and tuple(self.views[path].pos()) != inst.pos:
                self.views[path].set_property("pos", list(inst.pos), push_undo=False)
        for path in sorted(paths):
            if path in graph.nodes:
                self._sync_inputs(path)

    def _create(self, inst: NodeInstance, fallback: tuple[float, float] | None) -> None:
        known = inst.type_id in self.doc.registry
        pos = inst.pos or fallback or self._free_spot()
        view: WorldNode = self.create_node(
            inst.type_id if known else UNKNOWN_TYPE, name=inst.name, pos=list(pos),
            selected=False, push_undo=False)
        if view.name() != inst.name:  # NodeGraphQt renames clashes; prim names cannot clash
            view.set_property("name", inst.name, push_undo=False)
        schema = view.SCHEMA
        if schema is None:  # unknown type: ports for what the file connects
            for name in inst.connections:
                view.add_input(name, color=(255, 80, 80))
            view.set_color(120, 30, 30)
            view.view.setToolTip(f"{inst.type_id}: unknown node type")
        else:
            view.set_color(*family_color(schema.category))
            doc = schema.doc.splitlines()[0] if schema.doc else ""
            view.view.setToolTip(f"{schema.id} v{schema.version}\n{doc}")
            for port in view.input_ports():
                spec = schema.input(port.name())
                if spec is not None:
                    port.view.setToolTip(f"{spec.name}: {spec.type}\n{spec.doc}")
            for port in view.output_ports():
                out = schema.output(port.name())
                if out is not None:
                    port.view.setToolTip(f"{out.name}: {out.type}\n{out.doc}")
        self.views[inst.path] = view
        self.badges[inst.path] = StateBadge(view.view)
        self._cache(view)

    def _cache_all(self) -> None:
        for view in self.views.values():
            self._cache(view)

    def _cache(self, node: WorldNode) -> None:
        far = self.viewer().far
        mode = QGraphicsItem.CacheMode.ItemCoordinateCache if far else QGraphicsItem.CacheMode.DeviceCoordinateCache
        for item in (node.view, *node.view.inputs, *node.view.outputs):
            item.setCacheMode(mode)

    def _free_spot(self) -> tuple[float, float]:
        """Where a new node goes: the middle of what the view shows."""
        viewer = self.viewer()
        centre = viewer.mapToScene(viewer.viewport().rect().center())
        return (centre.x() - 80, centre.y() - 40)

    def _sync_inputs(self, path: str) -> None:
        """Make the view's wires into ``path`` be the document's."""
        inst, view = self.doc.graph.nodes[path], self.views[path]
        for port in view.input_ports():
            conn = inst.connections.get(port.name())
            source = self.views.get(conn.node) if conn else None
            wanted = source.get_output(conn.output) if source and conn else None
            have = port.connected_ports()
            pipes = port.view.connected_pipes
            if have == ([wanted] if wanted else []) and len(pipes) == len(have):
                continue
            for other in have:
                port.disconnect_from(other, push_undo=False, emit_signal=False)
            for pipe in list(port.view.connected_pipes):
                pipe.delete()
            if wanted is not None:
                port.connect_to(wanted, push_undo=False, emit_signal=False)
                self._colour_wire(port, wanted)

    def _colour_wire(self, port: Any, source: Any) -> None:
        """A wire takes its source type's colour, like the ports at both ends."""
        schema = source.node().SCHEMA
        out = schema.output(source.name()) if schema is not None else None
        colour = port_color(out.type.name) if out is not None else (160, 160, 160)
        for pipe in port.view.connected_pipes:
            pipe.color = (*colour, 255)
            pipe.reset()

    # ------------------------------------------------------------------ view -> model

    def path_of(self, node: Any) -> str | None:
        return next((p for p, v in self.views.items() if v is node or v.view is node), None)

    def selected_paths(self) -> list[str]:
        selected = {id(n) for n in self.selected_nodes()}
        return [p for p, v in self.views.items() if id(v) in selected]

    def select(self, path: str) -> None:
        self.clear_selection()
        view = self.views.get(path)
        if view is not None:
            view.set_selected(True)
            self.center_on([view])
        self.selection_changed.emit(self.selected_paths())

    def fit_all(self, min_scale: float = 0.0) -> None:
        """Frame every node; never below ``min_scale``, where titles stop being readable
        (NodeGraphQt then draws nodes as bare boxes)."""
        if not self.views:
            return
        viewer = self.viewer()
        # NodeGraphQt's zoom_to_nodes groups every item to measure them (0.6 s for 200
        # nodes); the union of their rects is the same frame at a fraction of the cost
        rect = QRectF()
        for v in self.views.values():
            rect = rect.united(v.view.sceneBoundingRect())
        rect.adjust(-40, -40, 40, 40)  # room for badges above and ports at the edges
        viewer.set_scene_rect([rect.x(), rect.y(), rect.width(), rect.height()])
        if viewer.get_zoom() > 0.1:  # as zoom_to_nodes: never frame small graphs above 1:1
            viewer.reset_zoom(rect.center())
        scale = viewer.transform().m11()
        if 0 < scale < min_scale:
            viewer.scale(min_scale / scale, min_scale / scale)

    def delete_selected(self) -> None:
        self.doc.remove_nodes(self.selected_paths())

    def _port(self, item: Any) -> tuple[str, str]:
        path = self.path_of(item.node)
        assert path is not None
        return path, item.name

    def _pair(self, a: Any, b: Any) -> tuple[str, str, str, str]:
        """(source, output, target, input) from two port items in either order."""
        out, inp = (a, b) if a.port_type == "out" else (b, a)
        return (*self._port(out), *self._port(inp))

    def _on_connection_changed(self, disconnected: list[Any], connected: list[Any]) -> None:
        cuts = [self._pair(a, b) for a, b in disconnected]
        joins = [self._pair(a, b) for a, b in connected]
        self.apply_gesture(cuts, joins)

    def _on_connection_sliced(self, ports: list[Any]) -> None:
        self.apply_gesture([self._pair(a, b) for a, b in ports], [])

    def apply_gesture(self, cuts: list[tuple[str, str, str, str]],
                      joins: list[tuple[str, str, str, str]]) -> bool:
        """Apply one drag on the canvas as one undo step, or refuse all of it with why."""
        graph = self.doc.graph
        cuts = [c for c in cuts if graph.nodes[c[2]].connections.get(c[3]) is not None
                and graph.nodes[c[2]].connections[c[3]].node == c[0]]
        trial = self.doc.snapshot()  # try first, so a refused drag changes nothing
        try:
            for _, _, target, name in cuts:
                trial.disconnect(target, name)
            for join in joins:
                trial.connect(*join)
        except GraphEditError as e:
            self.refuse(str(e))
            self.sync({c[2] for c in cuts + joins})
            return False
        stack = self.doc.undo_stack
        if cuts or joins:
            stack.beginMacro("connect" if joins else "disconnect")
            for _, _, target, name in cuts:
                self.doc.disconnect_input(target, name)
            for join in joins:
                self.doc.connect_ports(*join)
            stack.endMacro()
        self.sync({c[2] for c in cuts + joins})
        return True

    def refuse(self, reason: str) -> None:
        self.last_refusal = reason
        QToolTip.showText(QCursor.pos(), f"refused: {reason}", self.viewer())
        self.refused.emit(reason)

    def _on_nodes_moved(self, node_data: dict[Any, Any]) -> None:
        moved = {}
        for item in node_data:
            path = self.path_of(item)
            if path is not None:
                x, y = item.xy_pos
                moved[path] = (float(x), float(y))
        self.doc.move_nodes(moved)

    def _on_insert_node(self, pipe: Any, node_id: str, prev_node_pos: dict[Any, Any]) -> None:  # noqa: ARG002
        self._on_nodes_moved(prev_node_pos)  # dropping a node on a wire only moves it

    def _on_search_triggered(self, node_type: str, pos: Any) -> None:
        self.add_node(node_type, (float(pos[0]), float(pos[1])))

    def add_node(self, type_id: str, pos: tuple[float, float] | None = None) -> str:
        path = self.doc.add_node(type_id, pos or self._free_spot())
        self.select(path)
        return path

    def _on_node_name_changed(self, node_id: str, name: str) -> None:  # noqa: ARG002
        # a name is a prim path: renaming would change the node's identity; keep it
        for path, view in self.views.items():
            if view.id == node_id:
                view.view.name = path.rsplit("/", 1)[-1]
                view.view.draw_node()

    # ------------------------------------------------------------------ run state

    def set_state(self, path: str, state: str, text: str = "", fraction: float | None = None) -> None:
        badge = self.badges.get(path)
        if badge is not None:
            badge.set_state(state, text, fraction)

    def clear_states(self) -> None:
        for badge in self.badges.values():
            badge.set_state("idle")
