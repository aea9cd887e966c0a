"""Fuzzing the loader and validator with mutated valid graphs: whatever the file holds,
they answer with a GraphFileError or a list of problems, never with a crash."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worldgraph.nodes import (
    Connection,
    Graph,
    GraphFileError,
    NodeInstance,
    graph_to_usda,
    load_graph,
    validate,
)

from ..conftest import SAMPLES

LINES = (SAMPLES / "graphs" / "edges.usda").read_text().splitlines()
VALUE_TEXTS = ['"worldgraph.io.Nope"', '"worldgraph.controls.Canny"', "</Edges/load.outputs:video>",
               "</Edges/canny.outputs:edges>", "</Edges/ghost.outputs:x>", "</Edges/load>", '"x"',
               '"very_high"', "-1", "0", "7", "1e9", "3.5", "@../x.mp4@", "@missing.mp4@", "(1, 2)",
               "true", '"../../escape.mp4"']
TYPE_WORDS = ["int", "double", "float", "string", "token", "asset", "bool", "int64", "float2"]
TOKENS = ["worldgraph.io.Nope", "</Edges/load.outputs:video>", "</Nowhere>", "int", "double",
          "string", "token", "asset", "bool", "float2", '"x"', "-1", "1e9", "@../x.mp4@", "{", "}",
          "(", ")", "=", "custom", "def", "OmniGraphNode", '"canny"', "inputs:low", "[]", ""]


@st.composite
def mutated_text(draw) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "type", "delete", "duplicate",
                                   "replace_word", "insert", "swap"]))
        if op in ("value", "type") and " = " in lines[i]:
            head, value = lines[i].split(" = ", 1)
            if op == "value":
                value = draw(st.sampled_from(VALUE_TEXTS))
            else:
                words = head.split(" ")
                words[-2] = draw(st.sampled_from(TYPE_WORDS))
                head = " ".join(words)
            lines[i] = f"{head} = {value}"
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, " ".join(draw(st.lists(st.sampled_from(TOKENS), max_size=6))))
        else:
            words = lines[i].split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(st.sampled_from(TOKENS) | st.text(max_size=8))
            lines[i] = " ".join(words)
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_text())
def test_loader_and_validator_never_crash_on_mutated_files(tmp_path, text):
    path = tmp_path / "fuzz.usda"
    path.write_text(text)
    try:
        graph = load_graph(path)
    except GraphFileError as e:
        assert str(path) in str(e)
        return
    problems = validate(graph)
    assert all(p.path.startswith("/") and p.reason for p in problems)
    if not problems:  # a valid mutant round-trips like any graph
        again = tmp_path / "again.usda"
        again.write_text(graph_to_usda(graph))
        assert graph_to_usda(load_graph(again)) == graph_to_usda(graph)


TYPE_IDS = ["worldgraph.io.LoadVideo", "worldgraph.controls.Canny", "worldgraph.io.SaveVideo",
            "worldgraph.io.ContactSheet", "nope.x.Y"]
INPUTS = ["video", "path", "preset", "low", "crf", "max_frames", "bogus"]
VALUES = st.one_of(st.integers(-5, 500), st.floats(allow_nan=True), st.text(max_size=5),
                   st.booleans(), st.sampled_from(["medium", "edges.mp4", "very_low"]))


@st.composite
def random_graph(draw) -> Graph:
    g = Graph("/F")
    names = [f"n{i}" for i in range(draw(st.integers(1, 6)))]
    for name in names:
        n = NodeInstance(f"/F/{name}", draw(st.sampled_from(TYPE_IDS)), draw(st.integers(0, 3)))
        for key in draw(st.lists(st.sampled_from(INPUTS), max_size=3, unique=True)):
            if draw(st.booleans()):
                n.values[key] = draw(VALUES)
            else:
                n.connections[key] = Connection(f"/F/{draw(st.sampled_from([*names, 'ghost']))}",
                                                draw(st.sampled_from(["video", "edges", "file", "x"])))
        g.nodes[n.path] = n
    return g


@settings(max_examples=200, deadline=None)
@given(graph=random_graph())
def test_validator_reports_every_random_graph_without_crashing(graph):
    problems = validate(graph)
    for p in problems:
        assert p.path in graph.nodes or p.path == graph.path
        assert all(b.split(".outputs:")[0] in graph.nodes for b in p.blocks)
