import json

from worldgraph.nodes import Connection, Graph, NodeInstance, validate


def raw(registry) -> Graph:
    """A graph with one of every problem, built as a loader would (no edit checks)."""
    g = Graph("/G", registry=registry)
    nodes = [
        NodeInstance("/G/unknown", "test.math.Nope", 1),
        NodeInstance("/G/const", "test.math.Const", 1, values={"value": "one", "extra": 1}),
        NodeInstance("/G/add", "test.math.Add", 1, values={"b": 5000.0},
                     connections={"a": Connection("/G/const", "missing")}),
        NodeInstance("/G/needs", "test.math.Needs", 1),
        NodeInstance("/G/dangle", "test.math.Add", 1, connections={"a": Connection("/G/gone", "out")}),
        NodeInstance("/G/future", "test.math.Const", 9),
        NodeInstance("/G/down", "test.math.Add", 1, connections={"a": Connection("/G/unknown", "x")}),
        NodeInstance("/G/cyc1", "test.math.Add", 1, connections={"a": Connection("/G/cyc2", "sum")}),
        NodeInstance("/G/cyc2", "test.math.Add", 1, connections={"a": Connection("/G/cyc1", "sum")}),
        NodeInstance("/G/tail", "test.math.Add", 1, connections={"a": Connection("/G/cyc2", "sum")}),
        NodeInstance("/G/vid", "worldgraph.io.SaveVideo", 1,
                     connections={"video": Connection("/G/const", "out")}),
    ]
    for n in nodes:
        g.nodes[n.path] = n
    return g


def test_every_problem_is_reported_at_once(registry):
    problems = validate(raw(registry))
    found = {(p.path, p.input, p.code) for p in problems}
    assert found == {
        ("/G/unknown", None, "unknown-type"),
        ("/G/const", "value", "bad-value"),
        ("/G/const", "extra", "unknown-input"),
        ("/G/add", "a", "dangling-connection"),
        ("/G/add", "b", "bad-value"),
        ("/G/needs", "x", "missing-input"),
        ("/G/dangle", "a", "dangling-connection"),
        ("/G/future", None, "newer-version"),
        ("/G", None, "cycle"),
        ("/G/vid", "video", "incompatible-connection"),
    }


def test_problems_name_what_they_block_and_serialize(registry):
    problems = {(p.path, p.code): p for p in validate(raw(registry))}
    unknown = problems[("/G/unknown", "unknown-type")]
    assert unknown.blocks == ("/G/unknown", "/G/down.outputs:sum")
    assert "is the node pack that provides it installed" in unknown.reason
    cycle = problems[("/G", "cycle")]
    assert "/G/cyc1 -> /G/cyc2" in cycle.reason and "/G/tail.outputs:sum" in cycle.blocks
    bad = problems[("/G/add", "bad-value")]
    assert str(bad).startswith("/G/add.inputs:b: 5000.0 is out of range [-1000, 1000]")
    assert json.loads(json.dumps([p.to_json() for p in problems.values()]))


def test_a_valid_graph_has_no_problems(registry):
    g = Graph("/G", registry=registry)
    g.add_node("a", "test.math.Const")
    g.add_node("n", "test.math.Needs")
    assert [p.code for p in validate(g)] == ["missing-input"]
    g.connect("a", "out", "n", "x")
    assert validate(g) == []
