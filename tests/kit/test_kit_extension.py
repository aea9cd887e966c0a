"""worldgraph as an Omniverse Kit extension, in the real Kit kernel: it loads, registers
its node types, runs the sample dataset graph headless through its API, and unloads; a
missing graph file and missing Python dependencies are clear errors and Kit keeps running."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from worldgraph.engines.sim.dataset import read_manifest, verify
from worldgraph.nodes import GraphEditError, GraphFileError, default_registry

from .conftest import ROOT, run_kit

EXTENSION = ROOT / "extension" / "worldgraph"
HEADLESS = "extension/worldgraph/kit_headless.py"


# ------------------------------------------------------------------ without Kit


def test_extension_toml_describes_the_project():
    config = tomllib.loads((EXTENSION / "config" / "extension.toml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    package = config["package"]
    assert package["version"] == project["version"]
    for key in ("title", "description", "category", "keywords"):
        assert package[key], key
    for key in ("readme", "changelog", "icon", "preview_image"):
        assert (EXTENSION / package[key]).is_file(), f"{key} = {package[key]} is not a file"
    assert (EXTENSION / package["icon"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    modules = {m["name"]: m for m in config["python"]["module"]}
    assert modules["worldgraph"]["path"] == ".." and modules["worldgraph.kit_extension"]["path"] == ".."
    assert (EXTENSION / ".." / "worldgraph" / "kit_extension.py").resolve().is_file()
    assert all(dep.get("optional") for dep in config["dependencies"].values()), "Kit must start without the registry"
    settings = config["settings"]["exts"]["worldgraph"]
    assert set(settings) == {"default_backend", "model_cache_dir", "output_dir"}


def test_cli_and_kit_api_import_neither_kit_nor_heavy_libraries():
    code = ("import sys, worldgraph.cli, worldgraph.kit;"
            "bad = {'omni', 'carb', 'torch', 'cv2', 'av', 'mujoco'} & {m.split('.')[0] for m in sys.modules};"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_runner_errors_name_the_file_node_and_input(tmp_path):
    from worldgraph.kit import GraphRunner

    runner, graph = GraphRunner(tmp_path), ROOT / "samples" / "graphs" / "sim_dataset.usda"
    with pytest.raises(GraphFileError, match="graph file not found: .*nope.usda"):
        runner.run_graph(tmp_path / "nope.usda")
    with pytest.raises(GraphEditError, match="/SimDataset/randomize .* has no input 'nope'"):
        runner.run_graph(graph, sets={"randomize.nope": 1})
    with pytest.raises(GraphEditError, match="inputs:count: expected int"):
        runner.run_graph(graph, sets={"randomize.count": "two"})
    with pytest.raises(ValueError, match="default_backend 'cuda'"):
        GraphRunner(tmp_path, default_backend="cuda")
    assert not any(tmp_path.iterdir())  # nothing ran


# ------------------------------------------------------------------ in Kit


def test_kit_loads_runs_the_dataset_graph_and_unloads(kit_python, tmp_path):
    out, summary = tmp_path / "out", tmp_path / "summary.json"
    kit = run_kit(
        kit_python, tmp_path, f"--/exts/worldgraph/output_dir={tmp_path / 'default-out'}",
        exec_script=f"{HEADLESS} samples/graphs/sim_dataset.usda --out {out} --summary {summary} "
                    "--set randomize.count=2 --set write.workers=2",
    )
    assert kit.returncode == 0, kit.output[-3000:]

    started = kit.lines("worldgraph: started worldgraph-0.1.0:")
    assert len(started) == 1, kit.log[-3000:]
    assert f"{len(default_registry())} node types registered" in started[0]
    ran = json.loads(summary.read_text())
    assert ran["status"] == "ok", ran
    assert ran["prim"] == "/SimDataset" and len(ran["ran"]) == 10 and not ran["failures"]
    assert Path(ran["out_dir"]) == out.resolve()

    dataset = out / "dataset"
    records = read_manifest(dataset)
    assert [r["id"] for r in records] == ["000000", "000001"]
    assert verify(dataset) == []  # every file the manifest lists is there, checksums match
    assert {"rgb.mp4", "depth.npy", "segmentation.npy", "camera.json", "metadata.json", "scene.usda"} <= set(
        records[0]["files"])
    for name in ("dataset_sheet.png", "clip0_depth.png", "clip0_segmentation.mp4"):
        assert (out / name).stat().st_size > 1000, name
    assert not (tmp_path / "default-out").exists()  # --out wins over the setting

    # node events came through Kit's log, and the unload ran after the run, cleanly
    assert len(kit.lines("worldgraph: node_finished /SimDataset/")) == 10
    finished = kit.log.index("worldgraph: node_finished /SimDataset/save_segments")
    shutdown = kit.lines("worldgraph: shut down: node types unregistered")
    assert len(shutdown) == 1 and kit.log.index(shutdown[0]) > finished
    assert not kit.lines("[Error]"), kit.lines("[Error]")
    assert not kit.lines("extension object is still alive")


def test_kit_settings_startup_imports_and_disable_enable(kit_python, tmp_path):
    report = tmp_path / "report.json"
    kit = run_kit(
        kit_python, tmp_path,
        f"--/exts/worldgraph/model_cache_dir={tmp_path / 'engines'}",
        "--/exts/worldgraph/default_backend=onnxruntime",
        exec_script=f"tests/kit/kit_probe.py {report}",
    )
    assert kit.returncode == 0, kit.output[-3000:]
    seen = json.loads(report.read_text())
    assert "error" not in seen, seen
    assert seen["heavy_after_startup"] == []  # scene/video/model libraries load when a node needs them
    assert seen["node_types"] == len(default_registry())
    assert seen["default_backend"] == "onnxruntime"
    assert seen["engine_cache"] == str(tmp_path / "engines")
    assert seen["output_dir"] == str(tmp_path / "kit-data" / "worldgraph" / "out")  # ${data} resolved
    assert seen["worldgraph_file"] == str(EXTENSION / "__init__.py")  # the extension folder is the package
    assert seen["enabled_after_disable"] is False and seen["instance_after_disable"] is False
    assert seen["node_types_after_enable"] == seen["node_types"]
    assert len(kit.lines("worldgraph: started worldgraph-0.1.0")) == 2
    assert len(kit.lines("worldgraph: shut down")) == 2
    assert not kit.lines("[Error]"), kit.lines("[Error]")
    assert not kit.lines("extension object is still alive")


def test_kit_reports_a_missing_graph_file(kit_python, tmp_path):
    summary = tmp_path / "summary.json"
    kit = run_kit(kit_python, tmp_path, exec_script=f"{HEADLESS} samples/graphs/nope.usda --summary {summary}")
    assert kit.returncode == 2, kit.output[-3000:]
    error = json.loads(summary.read_text())
    assert error["status"] == "error"
    assert error["error"] == f"graph file not found: {ROOT / 'samples' / 'graphs' / 'nope.usda'}"
    assert len(kit.lines("graph file not found")) == 1
    assert len(kit.lines("worldgraph: shut down")) == 1  # the extension itself stayed up


def test_kit_without_dependencies_logs_one_error_and_keeps_running(bare_kit_python, tmp_path):
    summary = tmp_path / "summary.json"
    kit = run_kit(bare_kit_python, tmp_path,
                  exec_script=f"{HEADLESS} samples/graphs/sim_dataset.usda --summary {summary}")
    startup_errors = [line for line in kit.lines("[Error]") if "[worldgraph.kit_extension]" in line]
    assert len(startup_errors) == 1, kit.log[-3000:]
    assert "not installed: numpy, usd-core" in startup_errors[0]
    assert f"{bare_kit_python} -m pip install numpy usd-core" in startup_errors[0]
    assert "Traceback" not in kit.log
    # Kit kept running: the script ran after the failed startup and got the same reason
    assert kit.returncode == 2, kit.output[-3000:]
    error = json.loads(summary.read_text())["error"]
    assert error.startswith("the worldgraph extension did not start: worldgraph needs Python packages")
    assert len(kit.lines("worldgraph: shut down")) == 1
