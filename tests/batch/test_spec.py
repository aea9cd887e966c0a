"""Sweep specs: parsing, errors that name the field, and item expansion (nothing runs)."""

import json

import pytest

from worldgraph.batch.items import make_plan
from worldgraph.batch.spec import SpecError, load_spec
from worldgraph.cli import main
from worldgraph.nodes import GraphInvalid, load_graph

from ..conftest import SAMPLES
from .conftest import SIM_GRAPH, TINY, tiny_sim_spec, write_spec


def plan_of(path):
    spec = load_spec(path)
    return make_plan(spec, load_graph(spec.graph))


def error_of(path) -> str:
    with pytest.raises(SpecError) as caught:
        plan_of(path)
    return str(caught.value)


@pytest.mark.parametrize("samples", ["sim_dataset", "sim2real", "scenes"])
def test_sample_sweeps_expand(samples):
    spec = load_spec(SAMPLES / "sweeps" / f"{samples}.toml")
    plan, items = make_plan(spec, load_graph(spec.graph))
    assert len(items) == {"sim_dataset": 8, "sim2real": 4, "scenes": 12}[samples]
    assert len({i.id for i in items}) == len(items)
    assert len({i.seed for i in items}) == len(items)


def test_items_are_deterministic_and_do_not_depend_on_the_count(tmp_path):
    spec = write_spec(tmp_path, "a.toml", graph=str(SIM_GRAPH), items=6, seed=7, tables={
        "set": TINY,
        "sweep": {"combine": "zip", "simulate.camera_motion": ["static", "orbit"], "simulate.fps": {"range": [8, 24, 8]}},
        "random": {"simulate.camera_amount": {"uniform": [10, 40]}, "randomize.max_objects": {"integers": [2, 3]}}})
    _, items = plan_of(spec)
    _, again = plan_of(spec)
    assert items == again
    assert [i.values["/SimDataset/simulate.camera_motion"] for i in items] == ["static", "orbit"] * 3
    assert [i.values["/SimDataset/simulate.fps"] for i in items] == [8.0, 16.0] * 3  # floats for a float input
    assert all(10 <= i.values["/SimDataset/simulate.camera_amount"] <= 40 for i in items)
    assert {i.values["/SimDataset/randomize.max_objects"] for i in items} <= {2, 3}
    assert len({i.values["/SimDataset/simulate.camera_amount"] for i in items}) == 6
    fewer = write_spec(tmp_path, "b.toml", graph=str(SIM_GRAPH), items=3, seed=7, tables={
        "set": TINY,
        "sweep": {"combine": "zip", "simulate.camera_motion": ["static", "orbit"], "simulate.fps": {"range": [8, 24, 8]}},
        "random": {"simulate.camera_amount": {"uniform": [10, 40]}, "randomize.max_objects": {"integers": [2, 3]}}})
    assert plan_of(fewer)[1] == items[:3]  # the same work under the same ids: --resume can grow a sweep
    other_seed = tiny_sim_spec(tmp_path, items=6, seed=8)
    assert {i.id for i in plan_of(other_seed)[1]}.isdisjoint(i.id for i in items)


def test_product_sweeps_and_seeds(tmp_path):
    spec = write_spec(tmp_path, graph=str(SIM_GRAPH), tables={
        "set": TINY, "sweep": {"seed": [1, 2, 3], "simulate.camera_motion": ["static", "pan"]}})
    _, items = plan_of(spec)
    assert [(i.seed, i.values["/SimDataset/simulate.camera_motion"]) for i in items] == [
        (1, "static"), (1, "pan"), (2, "static"), (2, "pan"), (3, "static"), (3, "pan")]


def test_unknown_keys_name_the_field(tmp_path):
    assert "sweep.toml: itmes: unknown key" in error_of(write_spec(tmp_path, graph=str(SIM_GRAPH), itmes=3))
    message = error_of(write_spec(tmp_path, graph=str(SIM_GRAPH), items=2, tables={"resources": {"cpu": 1}}))
    assert "resources.cpu: unknown key" in message
    message = error_of(write_spec(tmp_path, graph=str(SIM_GRAPH), items=2, tables={
        "random": {"simulate.fps": {"uniform": [1, 2], "step": 1}}}))
    assert 'random."simulate.fps".step: unknown key' in message


def test_bad_ranges_and_values_name_the_field(tmp_path):
    def spec(**tables):
        return write_spec(tmp_path, graph=str(SIM_GRAPH), items=2, tables=tables)

    assert 'sweep."simulate.frames".range: [10, 5] holds no values' in error_of(spec(sweep={"simulate.frames": {"range": [10, 5]}}))
    assert "step must not be 0" in error_of(spec(sweep={"simulate.frames": {"range": [1, 5, 0]}}))
    assert 'random."simulate.fps".uniform: low 30 is above high 10' in error_of(spec(random={"simulate.fps": {"uniform": [30, 10]}}))
    message = error_of(spec(sweep={"render.width": [32, 4096]}))
    assert 'sweep."render.width": item 1: 4096 is out of range [8, 1024]' in message
    assert 'set."render.width": item 0: expected int' in error_of(spec(set={"render.width": "wide"}))
    assert 'sweep."render.widht": /SimDataset/render (worldgraph.scene.Render) has no input' in error_of(
        spec(sweep={"render.widht": [32]}))
    assert "has no node 'rendr'" in error_of(spec(set={"rendr.width": 32}))
    assert "takes a connection" in error_of(spec(set={"render.simulation": "x"}))
    message = error_of(spec(sweep={"combine": "zip", "simulate.fps": [8, 16], "render.width": [32]}))
    assert "zip needs axes of one length" in message and "render.width: 1" in message
    assert "also given in [set]" in error_of(spec(set={"render.width": 32}, sweep={"render.width": [32, 64]}))
    assert "max_failures: 'lots'" in error_of(write_spec(tmp_path, graph=str(SIM_GRAPH), items=1, max_failures="lots"))
    assert "retries: -1 is below 0" in error_of(write_spec(tmp_path, graph=str(SIM_GRAPH), items=1, retries=-1))
    assert "items: required when there is no [sweep]" in error_of(write_spec(tmp_path, graph=str(SIM_GRAPH)))
    assert "graph: " in error_of(write_spec(tmp_path, graph="nope.usda", items=1)) and "does not exist" in error_of(
        write_spec(tmp_path, graph="nope.usda", items=1))


def test_sources_name_their_files(tmp_path):
    (tmp_path / "prompts.jsonl").write_text('{"prompt": "a ball"}\n{"text": "no prompt field"}\n')
    message = error_of(write_spec(tmp_path, graph=str(SAMPLES / "graphs" / "sim2real.usda"),
                                  disconnect=["guard.prompt"], tables={"sweep": {"guard.text": {"jsonl": "prompts.jsonl"}}}))
    assert "prompts.jsonl line 2: no field 'prompt'" in message
    message = error_of(write_spec(tmp_path, graph=str(SCENE_GRAPH_PATH), tables={"sweep": {"load.path": {"glob": "*.usdz"}}}))
    assert "load.path\".glob: '*.usdz' matches no files" in message
    message = error_of(write_spec(tmp_path, graph=str(SAMPLES / "graphs" / "sim2real.usda"), items=1,
                                  tables={"set": {"guard.prompt": "x"}}))
    assert "takes a connection" in message
    message = error_of(write_spec(tmp_path, graph=str(SAMPLES / "graphs" / "sim2real.usda"), items=1,
                                  disconnect=["guard.text"]))
    assert "disconnect 'guard.text': not a connected input" in message


def test_keep_names_file_outputs(tmp_path):
    assert "keep 'simulate': /SimDataset/simulate has no file output" in error_of(
        tiny_sim_spec(tmp_path, keep=["simulate"]))
    plan, _ = plan_of(tiny_sim_spec(tmp_path, keep=["write", "sheet.file"]))
    assert plan.keep == (("/SimDataset/write", "folder"), ("/SimDataset/sheet", "file"))


def test_an_invalid_graph_stops_before_anything_runs(tmp_path, capsys):
    broken = tmp_path / "broken.usda"
    broken.write_text(SIM_GRAPH.read_text().replace("worldgraph.scene.Render", "worldgraph.scene.Rendr"))
    spec = tiny_sim_spec(tmp_path, graph=str(broken))
    with pytest.raises((GraphInvalid, SpecError)):
        plan_of(spec)
    assert main(["batch", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert "Rendr" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_reports_spec_errors_and_dry_runs(tmp_path, capsys):
    bad = write_spec(tmp_path, "bad.toml", graph=str(SIM_GRAPH), items=0)
    assert main(["batch", str(bad)]) == 2
    assert "bad.toml: items: 0 is below 1" in capsys.readouterr().err
    (tmp_path / "torn.toml").write_text("graph = [\n")
    assert main(["batch", str(tmp_path / "torn.toml")]) == 2
    assert "torn.toml: not valid TOML" in capsys.readouterr().err
    assert main(["batch", str(tiny_sim_spec(tmp_path)), "--dry-run"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2, 3] and rows[0]["id"].startswith("000000-")


SCENE_GRAPH_PATH = SAMPLES / "sweeps" / "scene_clips.usda"


@pytest.mark.parametrize(("lines", "words"), [
    # an output path that leaves --out, or holds a control character, failed only once the item ran
    ('[set]\n"write.path" = "../../escape"', 'set."write.path": item 0: output path \'../../escape\' leaves the output folder'),
    ('[set]\n"write.path" = "/tmp/abs"', 'set."write.path": item 0: output path \'/tmp/abs\' is absolute'),
    ('[sweep]\n"write.path" = ["ok", "a\\u0000b"]', 'sweep."write.path": item 1: path \'a\\x00b\' holds the control character'),
    # nan passed every range check: black clips and nan cameras, exit 0
    ('[random]\n"simulate.camera_amount" = { uniform = [nan, 45] }',
     'random."simulate.camera_amount".uniform: bounds must be finite numbers, got [nan, 45]'),
    ('[sweep]\n"simulate.camera_amount" = [10.0, nan]', 'sweep."simulate.camera_amount": item 1: nan is not a finite number'),
    ('[set]\n"simulate.camera_amount" = inf', 'set."simulate.camera_amount": item 0: inf is not a finite number'),
    ('[sweep]\n"simulate.fps" = { range = [8, inf] }', 'sweep."simulate.fps".range: must hold finite numbers, got [8, inf]'),
    ("[resources]\ncpus = nan", "resources.cpus: must be a finite number, got nan"),
    # sizes: these hung, or died with MemoryError (exit 1)
    ("items = 100000000000000000000", "items: 100000000000000000000 is above the maximum, 100000"),
    ('[sweep]\n"simulate.frames" = { range = [0, 10000000000000] }',
     'sweep."simulate.frames".range: [0, 10000000000000] holds more than 100000 values, the most a sweep may have'),
    ('[sweep]\n"simulate.fps" = { range = [0.0, 1e300, 1e-300] }', "holds more than 100000 values"),
    ('[sweep]\n"simulate.frames" = { range = [0, 1000] }\n"render.width" = { range = [0, 1000] }',
     "sweep: the product of its axes (1000 x 1000) is 1000000 rows, more than 100000"),
    ("retries = 1000000", "retries: 1000000 is above the maximum, 100"),
    ('[set]\n"write.path" = ' + "[" * 100_000 + "]" * 100_000, "not valid TOML: arrays or tables nested too deeply"),
], ids=["escape", "absolute", "control", "nan-uniform", "nan-sweep", "inf-set", "inf-range", "nan-cpus", "items",
        "range", "float-range", "product", "retries", "deep-toml"])
def test_bad_paths_non_finite_numbers_and_huge_sizes_exit_2_on_dry_run(tmp_path, capsys, lines, words):
    spec = tmp_path / "sweep.toml"
    items = "" if lines.startswith(("items", "[sweep]")) else "items = 2\n"
    spec.write_text(f"graph = {json.dumps(str(SIM_GRAPH))}\n{items}{lines}\n")
    assert main(["batch", str(spec), "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert "sweep.toml" in err and words in err, err
    assert out == "" and "Traceback" not in err


def test_an_asset_path_with_a_control_character_exits_2_on_dry_run(tmp_path, capsys):
    spec = tmp_path / "sweep.toml"  # resolving it against the spec's folder raised ValueError (exit 1)
    spec.write_text(f'graph = {json.dumps(str(SCENE_GRAPH_PATH))}\nitems = 1\n[set]\n"load.path" = "a\\u0000b.usda"\n')
    assert main(["batch", str(spec), "--dry-run"]) == 2
    assert "sweep.toml: values the graph does not accept:\n  set.\"load.path\": item 0: path 'a\\x00b.usda' holds " \
           "the control character '\\x00'" in capsys.readouterr().err
