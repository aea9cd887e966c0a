import pytest

from worldgraph.nodes import Graph, GraphEditError, Input, Output, node
from worldgraph.nodes.types import CONTROL, FLOAT, INT, VIDEO, PortType


def make(registry) -> Graph:
    g = Graph("/G", registry=registry)
    g.add_node("a", "test.math.Const", values={"value": 1.0})
    g.add_node("b", "test.math.Add")
    g.connect("a", "out", "b", "a")
    return g


def test_edits_keep_values_and_connections_exclusive(registry):
    g = make(registry)
    b = g.node("b")
    assert b.connections["a"].node == "/G/a"
    g.set_value("b", "a", 2.0)  # a value replaces the connection
    assert "a" not in b.connections and b.values["a"] == 2.0
    g.connect("a", "out", "b", "a")  # and a connection replaces the value
    assert "a" not in b.values
    g.disconnect("b", "a")
    assert not b.connections
    with pytest.raises(GraphEditError, match="not connected"):
        g.disconnect("b", "a")


def test_remove_node_drops_its_connections(registry):
    g = make(registry)
    g.remove_node("/G/a")
    assert list(g.nodes) == ["/G/b"] and not g.node("b").connections


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda g: g.add_node("a", "test.math.Const"), "already exists"),
        (lambda g: g.add_node("bad name", "test.math.Const"), "not a valid USD prim name"),
        (lambda g: g.add_node("c", "test.math.Cnst"), "did you mean test.math.Const"),
        (lambda g: g.set_value("b", "nope", 1.0), "no input 'nope'"),
        (lambda g: g.set_value("b", "b", "x"), "expected float, got str"),
        (lambda g: g.set_value("b", "b", 5000.0), "out of range"),
        (lambda g: g.set_value("b", "b", True), "expected float, got bool"),
        (lambda g: g.connect("a", "nope", "b", "b"), "no output 'nope'"),
        (lambda g: g.connect("b", "sum", "a", "value"), "would make a cycle"),
        (lambda g: g.connect("b", "sum", "b", "a"), "would make a cycle"),
        (lambda g: g.node("zzz"), "no node 'zzz'"),
    ],
)
def test_bad_edits_are_refused_with_a_reason(registry, edit, message):
    g = make(registry)
    before = {p: (dict(n.values), dict(n.connections)) for p, n in g.nodes.items()}
    with pytest.raises(GraphEditError, match=message):
        edit(g)
    assert {p: (dict(n.values), dict(n.connections)) for p, n in g.nodes.items()} == before


def test_port_types_connect_by_subclass():
    assert VIDEO.accepts(CONTROL)  # a control video is a video
    assert not CONTROL.accepts(VIDEO)
    assert FLOAT.check(3) is None and INT.check(3.0) is not None
    assert PortType("x", int, "int").check(True) is not None


def test_topological_order_and_downstream(registry):
    g = make(registry)
    g.add_node("c", "test.math.Add")
    g.connect("b", "sum", "c", "a")
    g.connect("a", "out", "c", "b")
    order, cyclic = g.topological_order()
    assert order == ["/G/a", "/G/b", "/G/c"] and cyclic == []
    assert g.downstream(["/G/a"]) == ["/G/b", "/G/c"]


def test_node_decorator_checks_its_declaration():
    with pytest.raises(ValueError, match="not of the form"):
        node("Bad")
    with pytest.raises(ValueError, match="compute parameters"):
        @node("t.f.N", inputs=[Input("x", FLOAT, 0.0)], outputs=[Output("y", FLOAT)])
        def N(ctx, y):  # noqa: ARG001
            return {}
    with pytest.raises(ValueError, match="bad default"):
        @node("t.f.M", inputs=[Input("x", INT, 0.5)])
        def M(ctx, x):  # noqa: ARG001
            return {}
