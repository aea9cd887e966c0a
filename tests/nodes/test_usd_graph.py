import os
from pathlib import Path

import pytest

from worldgraph.nodes import (
    Graph,
    GraphFileError,
    graph_to_usda,
    load_graph,
    save_graph,
    validate,
)

from ..conftest import SAMPLES

GOLDEN = Path(__file__).parent / "golden"


def every_value_kind(registry) -> Graph:
    g = Graph("/Demo", registry=registry, base_dir=GOLDEN, seed=42)
    g.add_node("load", "worldgraph.io.LoadVideo", pos=(0, 0),
               values={"path": "../../../samples/videos/bouncing_shapes.mp4", "max_frames": 8, "fps": 12.5})
    g.add_node("canny", "worldgraph.controls.Canny", pos=(250, -40), values={"preset": "custom", "low": 30})
    g.add_node("sheet", "worldgraph.io.ContactSheet", pos=(500, 0), values={"labels": False})
    g.add_node("scale", "test.math.Scale", values={"gain": 0.5})
    g.connect("load", "video", "canny", "video")
    g.connect("canny", "edges", "sheet", "video")
    return g


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("WORLDGRAPH_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden file"


def test_writer_matches_golden_file(registry):
    check_golden("every_value_kind.usda", graph_to_usda(every_value_kind(registry)))


def test_save_load_save_is_byte_identical(registry, tmp_path):
    first = tmp_path / "g.usda"
    save_graph(every_value_kind(registry), first)
    loaded = load_graph(first, registry)
    second = tmp_path / "g2.usda"
    save_graph(loaded, second)
    assert first.read_bytes() == second.read_bytes()
    assert loaded.seed == 42 and loaded.node("canny").pos == (250, -40)
    assert loaded.node("load").values == {
        "path": "../../../samples/videos/bouncing_shapes.mp4", "max_frames": 8, "fps": 12.5,
    }
    assert str(loaded.node("sheet").connections["video"]) == "/Demo/canny.outputs:edges"


def test_sample_graph_round_trips_and_resolves_assets_from_its_folder(tmp_path):
    sample = SAMPLES / "graphs" / "edges.usda"
    g = load_graph(sample)
    assert validate(g) == []
    assert g.asset_path(g.node("load").values["path"]) == (SAMPLES / "videos" / "bouncing_shapes.mp4")
    assert graph_to_usda(g) == sample.read_text()


def test_unknown_types_and_inputs_survive_a_round_trip(tmp_path, registry):
    text = (GOLDEN / "every_value_kind.usda").read_text().replace(
        'custom token node:type = "test.math.Scale"',
        'custom float3 inputs:color = (1, 0.5, 0.25)\n'
        '        custom int inputs:count = 3\n'
        '        custom token node:type = "pack.missing.Thing"',
    )
    src = tmp_path / "unknown.usda"
    src.write_text(text)
    g = load_graph(src, registry)
    assert [p.code for p in validate(g)] == ["unknown-type"]
    out, again = tmp_path / "out.usda", tmp_path / "again.usda"
    save_graph(g, out)
    save_graph(load_graph(out, registry), again)
    saved = out.read_text()
    assert saved == again.read_text()
    for line in ("custom float3 inputs:color = (1, 0.5, 0.25)", "custom int inputs:count = 3",
                 'custom double inputs:gain = 0.5', 'custom token node:type = "pack.missing.Thing"'):
        assert line in saved  # nothing the loader did not understand is lost


def test_old_node_versions_are_upgraded_on_load(tmp_path, registry):
    src = tmp_path / "old.usda"
    src.write_text("""#usda 1.0
def OmniGraph "G" {
    def OmniGraphNode "s" {
        custom token node:type = "test.math.Scale"
        custom int node:typeVersion = 1
        custom double inputs:factor = 3
    }
}
""")
    g = load_graph(src, registry)
    s = g.node("s")
    assert s.type_version == 2 and s.values == {"gain": 3.0} and validate(g) == []


def test_graph_saved_into_a_scene_file_keeps_the_scene(tmp_path, registry):
    scene = tmp_path / "scene.usda"
    scene.write_text("""#usda 1.0
(
    defaultPrim = "World"
)
def Xform "World" {
    def Sphere "ball" {
        double radius = 0.25
    }
}
""")
    g = Graph("/Graphs/Edges", registry=registry)
    g.add_node("a", "test.math.Const")
    save_graph(g, scene)
    save_graph(g, scene)  # saving again replaces the graph, keeps one copy
    text = scene.read_text()
    assert 'def Sphere "ball"' in text and text.count('def OmniGraph "Edges"') == 1
    assert list(load_graph(scene, registry).nodes) == ["/Graphs/Edges/a"]


BAD_FILES = {
    "missing.usda": (None, "no such file"),
    "empty.usda": (b"", "the file is empty"),
    "random.usda": (bytes(range(256)) * 4, "cannot read as USD"),
    "syntax.usda": (b'#usda 1.0\ndef OmniGraph "G" {\n  int x = \n', "line 3:3: Expected }"),
    "nograph.usda": (b'#usda 1.0\ndef Xform "World" {}\n', "no OmniGraph prim"),
    "twographs.usda": (b'#usda 1.0\ndef OmniGraph "A" {}\ndef OmniGraph "B" {}\n', "several graphs"),
    "graph.txt": (b"hello", "not a USD file"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_unreadable_files_raise_one_clear_error(tmp_path, name):
    content, message = BAD_FILES[name]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(GraphFileError, match=message) as info:
        load_graph(path)
    assert str(path) in str(info.value) and "pxrInternal" not in str(info.value)


def test_graph_level_problems_come_back_as_problems(tmp_path, registry):
    src = tmp_path / "odd.usda"
    src.write_text("""#usda 1.0
def OmniGraph "G" {
    def Xform "stray" {}
    def OmniGraphNode "untyped" {}
    def OmniGraphNode "a" {
        custom token node:type = "test.math.Add"
        custom double inputs:a
        prepend double inputs:a.connect = </G/stray>
        custom double inputs:b = 1
        prepend double inputs:b.connect = </G/x.outputs:sum>
    }
}
""")
    problems = {(p.path, p.input, p.code) for p in validate(load_graph(src, registry))}
    assert problems == {
        ("/G/stray", None, "not-a-node"),
        ("/G/untyped", None, "unknown-type"),
        ("/G/a", "a", "dangling-connection"),
        ("/G/a", "b", "dangling-connection"),
    }


def test_save_refuses_to_overwrite_a_non_usd_file(tmp_path, registry):
    target = tmp_path / "notes.usda"
    target.write_text("my notes, not USD")
    g = Graph("/G", registry=registry)
    with pytest.raises(GraphFileError, match="will not overwrite"):
        save_graph(g, target)
    assert target.read_text() == "my notes, not USD"
