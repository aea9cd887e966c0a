import json
import time

import pytest

from worldgraph.nodes import Connection, Graph, GraphEditError, Input, NodeInstance, validate
from worldgraph.nodes.types import FLOAT


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


def ring(registry, size: int, start: int = 0, prefix: str = "n") -> dict[str, NodeInstance]:
    """``size`` Add nodes, each fed by the one before; the first by the last."""
    paths = [f"/G/{prefix}{i}" for i in range(start, start + size)]
    return {p: NodeInstance(p, "test.math.Add", 1, connections={"a": Connection(paths[i - 1], "sum")})
            for i, p in enumerate(paths)}


def test_each_cycle_is_reported_with_its_nodes_in_order(registry):
    g = Graph("/G", registry=registry)
    g.nodes |= ring(registry, 3, prefix="a")  # /G/a0 <- /G/a2: a0 -> a1 -> a2 -> a0
    g.nodes["/G/self"] = NodeInstance("/G/self", "test.math.Add", 1,
                                      connections={"a": Connection("/G/self", "sum")})
    g.nodes["/G/after"] = NodeInstance("/G/after", "test.math.Add", 1,
                                       connections={"a": Connection("/G/a1", "sum")})
    g.nodes |= ring(registry, 20, prefix="b")
    cycles = [p for p in validate(g) if p.code == "cycle"]
    assert [p.reason for p in cycles] == [
        "nodes form a cycle: /G/a0 -> /G/a1 -> /G/a2 -> /G/a0",
        "nodes form a cycle: /G/self -> /G/self",
        "nodes form a cycle: /G/b0 -> /G/b1 -> /G/b2 -> /G/b3 -> /G/b4 -> /G/b5 -> ... -> /G/b18 -> /G/b19 "
        "-> /G/b0 (20 nodes)",
    ]
    assert cycles[0].blocks == ("/G/a0.outputs:sum", "/G/a1.outputs:sum", "/G/a2.outputs:sum",
                                "/G/after.outputs:sum")
    assert cycles[1].blocks == ("/G/self.outputs:sum",)


def test_large_graphs_validate_in_linear_time(registry):
    """10,000 nodes on one cycle took minutes (a walk of the graph per node); and so did a
    problem on each of 10,000 unconnected nodes (a pass over the graph per problem)."""
    g = Graph("/G", registry=registry)
    g.nodes |= ring(registry, 10_000)
    t0 = time.perf_counter()
    problems = validate(g)
    seconds = time.perf_counter() - t0
    assert [p.code for p in problems] == ["cycle"] and "(10000 nodes)" in problems[0].reason
    assert len(problems[0].blocks) == 10_000
    wide = Graph("/G", registry=registry)
    wide.nodes = {f"/G/c{i}": NodeInstance(f"/G/c{i}", "test.math.Add", 1, values={"b": 5000.0})
                  for i in range(10_000)}
    t0 = time.perf_counter()
    problems = validate(wide)
    seconds += time.perf_counter() - t0
    assert len(problems) == 10_000 and problems[-1].blocks == ("/G/c9999.outputs:sum",)
    assert seconds < 5  # about 0.2 s; a quadratic walk takes minutes


@pytest.mark.parametrize("value, words", [
    (float("nan"), "nan is not a finite number"),
    (float("inf"), "inf is not a finite number"),
    (float("-inf"), "-inf is not a finite number"),
])
def test_non_finite_floats_are_refused(registry, value, words):
    g = Graph("/G", registry=registry)
    g.nodes["/G/add"] = NodeInstance("/G/add", "test.math.Add", 1, values={"a": value, "b": value})
    found = {(p.input, p.reason) for p in validate(g)}
    assert found == {("a", words), ("b", words)}  # b's range check alone let nan through
    with pytest.raises(GraphEditError, match=f"/G/add.inputs:b: {words}"):
        g.set_value("add", "b", value)
    takes_inf = Input("x", FLOAT, float("inf"), nonfinite=True)
    assert takes_inf.check_value(value) is None and takes_inf.to_json()["nonfinite"] is True


@pytest.mark.parametrize("value, words", [
    ("../escape.mp4", "output path '../escape.mp4' leaves the output folder"),
    ("clips/../../escape.mp4", "output path 'clips/../../escape.mp4' leaves the output folder"),
    ("/tmp/abs.mp4", "output path '/tmp/abs.mp4' is absolute"),
    ("C:\\\\out.mp4", "is absolute"),
    ("clips/..", "names the output folder itself"),
    ("", "an output path must name a file or folder inside the output folder"),
    ("a\x00b.mp4", "path 'a\\x00b.mp4' holds the control character '\\x00'"),
    ("a\nb.mp4", "holds the control character '\\n'"),
])
def test_output_paths_must_stay_inside_the_output_folder(registry, value, words):
    g = Graph("/G", registry=registry)
    g.nodes["/G/save"] = NodeInstance("/G/save", "worldgraph.io.SaveVideo", 1, values={"path": value})
    bad = [p for p in validate(g) if p.input == "path"]
    assert len(bad) == 1 and bad[0].code == "bad-value" and words in bad[0].reason, bad


def test_good_paths_and_asset_paths(registry):
    g = Graph("/G", registry=registry)
    g.add_node("save", "worldgraph.io.SaveVideo", values={"path": "clips/./a/../video.mp4"})
    g.add_node("load", "worldgraph.io.LoadVideo", values={"path": "../videos/in.mp4"})  # reading may climb
    with pytest.raises(GraphEditError, match=r"/G/load.inputs:path: path 'in\\x00.mp4' holds the control character"):
        g.set_value("load", "path", "in\x00.mp4")
    assert [p.input for p in validate(g)] == ["video"]  # only the missing connection
