"""The editor, driven the way a user drives it, offscreen (pytest-qt)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("NodeGraphQt")
pytest.importorskip("pytestqt")

from worldgraph.nodes import events as ev  # noqa: E402
from worldgraph.nodes import load_graph  # noqa: E402
from worldgraph.nodes.types import Video  # noqa: E402
from worldgraph.ui import qt  # noqa: E402, F401  (binds Qt.py to PySide6 first)
from worldgraph.ui.window import MainWindow  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GRAPHS = ROOT / "samples" / "graphs"


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow()
    w.out_dir = tmp_path / "out"
    yield w
    w.runner.cancel()
    w.runner.wait()
    w.doc.undo_stack.setClean()  # no unsaved-changes question when it closes
    w.close()
    w.deleteLater()


def open_copy(window, tmp_path, name):
    """Open a sample copied beside its assets' relative paths (../videos stays valid)."""
    graphs = tmp_path / "graphs"
    graphs.mkdir(exist_ok=True)
    (tmp_path / "videos").symlink_to(ROOT / "samples" / "videos")
    target = graphs / name
    target.write_text((GRAPHS / name).read_text())
    assert window.open_file(target)
    return target


def test_open_sample_builds_nodes_ports_and_wires(window):
    assert window.open_file(GRAPHS / "sim2real.usda")
    canvas = window.canvas
    assert set(canvas.views) == set(load_graph(GRAPHS / "sim2real.usda").nodes)
    transfer = canvas.views["/Sim2Real/transfer"]
    assert transfer.get_input("prompt").connected_ports()[0].node() is canvas.views["/Sim2Real/guard"]
    assert tuple(canvas.views["/Sim2Real/decode"].pos()) == (1500.0, 100.0)
    assert not window.doc.dirty and window.error_box is None


def test_palette_adds_a_node_and_undo_redo(window):
    window.open_file(GRAPHS / "edges.usda")
    window.nodes_panel.search.setText("resize")
    assert window.nodes_panel.visible_types() == ["worldgraph.io.Resize"]
    window.nodes_panel.search.returnPressed.emit()
    assert "/Edges/resize" in window.doc.graph.nodes and "/Edges/resize" in window.canvas.views
    assert window.properties.path == "/Edges/resize"  # the new node is selected and shown
    assert window.doc.dirty
    window.doc.undo_stack.undo()
    assert "/Edges/resize" not in window.doc.graph.nodes and "/Edges/resize" not in window.canvas.views
    window.doc.undo_stack.redo()
    assert "/Edges/resize" in window.canvas.views


def test_connect_and_refuse_with_reason(window):
    window.open_file(GRAPHS / "sim2real.usda")
    canvas, doc = window.canvas, window.doc
    trim = canvas.add_node("worldgraph.io.Trim")
    # a Prompt into a Video input: refused, nothing changes, the reason is shown
    assert not canvas.apply_gesture([], [("/Sim2Real/guard", "prompt", trim, "video")])
    assert "Prompt" in canvas.last_refusal and "Video" in canvas.last_refusal
    assert doc.graph.nodes[trim].connections == {}
    assert canvas.views[trim].get_input("video").connected_ports() == []
    # a cycle is refused too
    assert not canvas.apply_gesture([], [("/Sim2Real/decode", "video", "/Sim2Real/edges", "video")])
    assert "cycle" in canvas.last_refusal
    # a good one lands in model and view, as one undo step
    steps = doc.undo_stack.count()
    assert canvas.apply_gesture([], [("/Sim2Real/clip", "rgb", trim, "video")])
    assert doc.graph.nodes[trim].connections["video"].node == "/Sim2Real/clip"
    assert canvas.views[trim].get_input("video").connected_ports()[0].node() is canvas.views["/Sim2Real/clip"]
    assert doc.undo_stack.count() == steps + 1
    doc.undo_stack.undo()
    assert canvas.views[trim].get_input("video").connected_ports() == []


def test_edit_value_in_properties_undo_redo_and_live_validation(window, qtbot):
    window.open_file(GRAPHS / "edges.usda")
    window.canvas.select("/Edges/canny")
    combo = window.properties.editors["preset"]
    combo.setCurrentText("high")
    assert window.doc.graph.nodes["/Edges/canny"].values["preset"] == "high"
    qtbot.wait(10)
    assert window.properties.editors["preset"] is combo  # the form was not rebuilt under the user
    window.doc.undo_stack.undo()
    assert window.doc.graph.nodes["/Edges/canny"].values["preset"] == "medium"
    qtbot.waitUntil(lambda: window.properties.editors["preset"] is not combo)  # undo redraws the form
    assert window.properties.editors["preset"].currentText() == "medium"
    window.doc.undo_stack.redo()
    assert window.doc.graph.nodes["/Edges/canny"].values["preset"] == "high"
    # a value the schema refuses is shown beside the field and not applied
    window.properties.commit("low", -5)
    assert "out of range" in window.properties.errors["low"].text()
    assert "low" not in window.doc.graph.nodes["/Edges/canny"].values


def test_save_matches_expected_usd_and_cli_graph_round_trips(window, tmp_path):
    # a graph made by the CLI (transfer writes one), opened and saved untouched: same bytes
    made = tmp_path / "cli.usda"
    made.write_text((GRAPHS / "edges.usda").read_text())
    window.open_file(made)
    window.save()
    assert made.read_text() == (GRAPHS / "edges.usda").read_text()
    # one change: exactly that line differs
    window.doc.set_value("/Edges/canny", "preset", "high")
    window.doc.move_nodes({"/Edges/blur": (320.0, 220.0)})
    assert window.save_as(tmp_path / "changed.usda")
    before = (GRAPHS / "edges.usda").read_text().splitlines()
    after = (tmp_path / "changed.usda").read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        ('        custom token inputs:preset = "medium"', '        custom token inputs:preset = "high"'),
        ("        uniform float2 ui:nodegraph:node:pos = (300, 200)",
         "        uniform float2 ui:nodegraph:node:pos = (320, 220)"),
    ]
    assert not window.doc.dirty


def test_run_small_graph_to_completion_fills_preview(window, qtbot, tmp_path):
    open_copy(window, tmp_path, "edges.usda")
    seen = []
    window.runner.node_event.connect(seen.append)
    with qtbot.waitSignal(window.runner.finished, timeout=60000) as done:
        assert window.run()
    result, error = done.args
    assert error == "" and result.status == "ok"
    assert any(isinstance(e, ev.NodeProgress) for e in seen)
    assert window.canvas.badges["/Edges/canny"].state == "done"
    assert isinstance(window.preview.sources["canny.edges"], Video)
    assert window.preview.screen_a.pixmap() is not None and not window.preview.screen_a.pixmap().isNull()
    window.preview.compare("canny.edges", "blur.blurred")  # control vs its source, side by side
    assert not window.preview.screen_b.isHidden() and not window.preview.screen_b.pixmap().isNull()
    window.preview.slider.setValue(5)  # scrubbing shows that frame on both
    assert window.preview.frame_label.text().startswith("6/")
    assert "vis.mp4" in window.preview.links.text()
    assert window.preview.sources["sheet_edges.file"].suffix == ".png"  # an image output, shown as one
    # a second run: every deterministic node comes back cached, and the canvas says so
    with qtbot.waitSignal(window.runner.finished, timeout=60000) as again:
        window.run()
    assert again.args[0].cached and window.canvas.badges["/Edges/canny"].state == "cached"


def test_invalid_graph_does_not_run_and_log_links_to_node(window, qtbot, tmp_path):
    open_copy(window, tmp_path, "edges.usda")
    window.doc.disconnect_input("/Edges/canny", "video")
    assert not window.run()
    rows = [window.log.item(i) for i in range(window.log.count())]
    row = next(r for r in rows if "/Edges/canny.inputs:video" in r.text())
    window.log.itemClicked.emit(row)
    assert window.canvas.selected_paths() == ["/Edges/canny"]
    assert window.canvas.badges["/Edges/canny"].state == "invalid"


def test_cancel_a_long_run(window, qtbot, tmp_path):
    window.open_file(GRAPHS / "sim_dataset.usda")
    window.doc.set_value("/SimDataset/randomize", "count", 400)
    window.doc.set_value("/SimDataset/write", "workers", 1)
    progress = []

    def watch(event):
        if isinstance(event, ev.NodeProgress) and event.path == "/SimDataset/write":
            progress.append(event)
            window.runner.cancel()

    window.runner.node_event.connect(watch)
    with qtbot.waitSignal(window.runner.finished, timeout=60000) as done:
        window.run()
    result, _ = done.args
    assert progress and result.status == "cancelled"
    assert progress[-1].value < 400
    assert window.canvas.badges["/SimDataset/write"].state == "cancelled"


def test_malformed_file_shows_error_dialog(window, tmp_path):
    bad = tmp_path / "broken.usda"
    bad.write_text("#usda 1.0\ndef OmniGraph \"G\" {\n  def OmniGraphNode \"n\" {\n")
    assert not window.open_file(bad)
    assert window.error_box is not None and window.error_box.isVisible()
    assert "broken.usda" in window.error_box.text() and "cannot read" in window.error_box.text()
    assert window.doc.file is None  # the editor carries on with what it had


def test_screenshot_of_sim2real(tmp_path):
    png = tmp_path / "editor.png"
    done = subprocess.run(
        [sys.executable, "-m", "worldgraph", "edit", str(GRAPHS / "sim2real.usda"), "--screenshot", str(png)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert (image.width(), image.height()) == (2400, 1350)
    colours = {image.pixel(x, y) for x in range(0, 2400, 37) for y in range(0, 1350, 37)}
    assert len(colours) > 20  # a drawn window, not a blank one


def test_tab_search_move_and_delete_are_undoable(window):
    window.open_file(GRAPHS / "edges.usda")
    canvas, doc = window.canvas, window.doc
    canvas._on_search_triggered("worldgraph.io.Trim", (40, 500))  # what Tab-search submits
    assert doc.graph.nodes["/Edges/trim"].pos == (40.0, 500.0)
    view = canvas.views["/Edges/canny"].view
    view.xy_pos = [310.0, 10.0]  # a drag, as the viewer reports it when the mouse is released
    canvas._on_nodes_moved({view: [300.0, 0.0]})
    assert doc.graph.nodes["/Edges/canny"].pos == (310.0, 10.0)
    doc.undo_stack.undo()
    assert doc.graph.nodes["/Edges/canny"].pos == (300.0, 0.0)
    assert tuple(canvas.views["/Edges/canny"].pos()) == (300.0, 0.0)
    canvas.select("/Edges/canny")
    canvas.delete_selected()
    assert "/Edges/canny" not in canvas.views
    assert "video" not in doc.graph.nodes["/Edges/save_edges"].connections
    doc.undo_stack.undo()  # back, with its wires and in its place in the file
    assert list(doc.graph.nodes).index("/Edges/canny") == 1
    assert canvas.views["/Edges/save_edges"].get_input("video").connected_ports()[0].node() is canvas.views["/Edges/canny"]


def test_unknown_node_type_and_scene_outline(window, tmp_path):
    text = (GRAPHS / "edges.usda").read_text()
    text = text.replace('"worldgraph.io.ContactSheet"', '"acme.io.NotInstalled"')
    text += '\ndef Xform "World"\n{\n    def Cube "box"\n    {\n    }\n}\n'
    file = tmp_path / "mixed.usda"
    file.write_text(text)
    assert window.open_file(file)
    assert window.canvas.badges["/Edges/sheet_edges"].state == "invalid"
    assert any("acme.io.NotInstalled" in line for line in window.log.lines())
    assert window.outline.topLevelItem(0).text(0) == "World"
    assert window.outline.topLevelItem(0).child(0).text(0) == "box"
    window.save()  # the scene and the unknown node's inputs survive a save
    saved = file.read_text()
    assert 'def Cube "box"' in saved and '"acme.io.NotInstalled"' in saved


def test_edit_without_the_ui_extra_says_what_to_install(tmp_path):
    blocker = tmp_path / "NodeGraphQt"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('No module named NodeGraphQt', name='NodeGraphQt')\n")
    done = subprocess.run(
        [sys.executable, "-m", "worldgraph", "edit", str(GRAPHS / "edges.usda")],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 2
    assert "pip install 'worldgraph[ui]'" in done.stderr and "NodeGraphQt" in done.stderr


def test_unsaved_changes_guard(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window.open_file(GRAPHS / "edges.usda")
    window.doc.set_value("/Edges/canny", "preset", "low")
    assert window.isWindowModified()
    asked = []

    def answer(*args):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert not window.open_file(GRAPHS / "sim2real.usda")  # Cancel keeps the edited graph
    assert asked and window.doc.graph.path == "/Edges" and window.doc.dirty


def test_a_drag_on_the_viewer_connects_and_a_bad_one_is_refused(window):
    """The viewer's own signal, as emitted when a wire is dropped on a port."""
    window.open_file(GRAPHS / "sim2real.usda")
    canvas = window.canvas
    trim = canvas.add_node("worldgraph.io.Trim")
    viewer = canvas.viewer()
    into = canvas.views[trim].get_input("video").view
    viewer.connection_changed.emit([], [(canvas.views["/Sim2Real/guard"].get_output("verdict").view, into)])
    assert "Verdict" in canvas.last_refusal and window.doc.graph.nodes[trim].connections == {}
    viewer.connection_changed.emit([], [(into, canvas.views["/Sim2Real/clip"].get_output("plain").view)])
    assert str(window.doc.graph.nodes[trim].connections["video"]) == "/Sim2Real/clip.outputs:plain"
    assert window.canvas.views[trim].get_input("video").view.connected_pipes  # drawn
