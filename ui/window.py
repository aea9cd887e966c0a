"""The main window: canvas in the middle, palette and outline left, properties right,
log and preview below; File / Edit / Run actions. Wires the panels together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from worldgraph.nodes import Registry, RunResult, WorldgraphError
from worldgraph.nodes import events as ev

from .canvas import Canvas
from .document import GraphDocument
from .layout import layered_positions
from .log import LogPanel
from .outline import StageOutline
from .palette import Palette
from .preview import PreviewPanel
from .properties import PropertiesPanel
from .run import RunController, describe

FILE_FILTER = "USD graphs (*.usda)"


class MainWindow(QMainWindow):
    def __init__(self, registry: Registry | None = None) -> None:
        super().__init__()
        self.doc = GraphDocument(registry)
        self.canvas = Canvas(self.doc)
        self.nodes_panel = Palette(self.doc.registry)
        self.properties = PropertiesPanel(self.doc)
        self.outline = StageOutline()
        self.log = LogPanel()
        self.preview = PreviewPanel()
        self.runner = RunController()
        self.out_dir: Path | None = None  # default: out/<graph file name>, as the CLI
        self.error_box: QMessageBox | None = None

        self.setCentralWidget(self.canvas.widget)
        nodes_dock = self._dock("Nodes", self.nodes_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        stage_dock = self._dock("Stage", self.outline, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(nodes_dock, stage_dock)
        nodes_dock.raise_()
        props_dock = self._dock("Properties", self.properties, Qt.DockWidgetArea.RightDockWidgetArea)
        log_dock = self._dock("Log", self.log, Qt.DockWidgetArea.BottomDockWidgetArea)
        preview_dock = self._dock("Preview", self.preview, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(log_dock, preview_dock, Qt.Orientation.Horizontal)
        # the canvas gets the room: side panels narrow, bottom panels short
        self.resizeDocks([nodes_dock, props_dock], [190, 330], Qt.Orientation.Horizontal)
        self.resizeDocks([log_dock], [230], Qt.Orientation.Vertical)
        self.resizeDocks([log_dock, preview_dock], [600, 700], Qt.Orientation.Horizontal)
        self._actions()

        self.nodes_panel.chosen.connect(self.canvas.add_node)
        self.canvas.selection_changed.connect(self._selected)
        self.canvas.refused.connect(lambda why: self.statusBar().showMessage(f"refused: {why}", 8000))
        self.log.node_activated.connect(self.canvas.select)
        self.doc.undo_stack.cleanChanged.connect(lambda clean: self.setWindowModified(not clean))
        self.doc.changed.connect(lambda _: self._mark_invalid())
        self.runner.node_event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self.runner.running_changed.connect(self._running)
        self._title()
        self._running(False)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _actions(self) -> None:
        def act(text: str, slot: Any, key: Any = None, menu: Any = None) -> QAction:
            action = QAction(text, self)
            if key is not None:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            self.addAction(action)
            if menu is not None:
                menu.addAction(action)
            return action

        file_menu, edit_menu, run_menu = (self.menuBar().addMenu(m) for m in ("&File", "&Edit", "&Run"))
        act("Open…", self._open_dialog, QKeySequence.StandardKey.Open, file_menu)
        act("Save", self.save, QKeySequence.StandardKey.Save, file_menu)
        act("Save As…", self._save_as_dialog, QKeySequence.StandardKey.SaveAs, file_menu)
        self.undo_action = self.doc.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.doc.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        edit_menu.addActions([self.undo_action, self.redo_action])
        act("Delete nodes", self.canvas.delete_selected, QKeySequence.StandardKey.Delete, edit_menu)
        act("Lay out left to right", self.lay_out, "Ctrl+L", edit_menu)
        act("Frame all", self.canvas.fit_all, "F", edit_menu)
        self.run_action = act("Run", self.run, "Ctrl+R", run_menu)
        self.cancel_action = act("Cancel", self.runner.cancel, "Ctrl+.", run_menu)
        tools = self.addToolBar("main")
        tools.setObjectName("main")
        tools.addActions([self.undo_action, self.redo_action, self.run_action, self.cancel_action])

    # ------------------------------------------------------------------ files

    def open_file(self, file: Path) -> bool:
        if not self.confirm_discard():
            return False
        try:
            self.doc.open(file)
        except WorldgraphError as e:
            self.show_error("Cannot open graph", str(e))
            return False
        self._loaded()
        return True

    def _loaded(self) -> None:
        self.canvas.fit_all()
        self.outline.show_file(self.doc.file, self.doc.graph.path)
        self.preview.set_result(None)
        self.log.clear()
        self.log.add(f"opened {self.doc.file} ({len(self.doc.graph.nodes)} nodes)", level="ok")
        problems = self.doc.problems()
        if problems:
            self.log.add_problems(str(self.doc.file), problems)
        self._mark_invalid()
        self._title()

    def save(self) -> bool:
        if self.doc.file is None:
            return self._save_as_dialog()
        return self.save_as(self.doc.file)

    def save_as(self, file: Path) -> bool:
        try:
            self.doc.save(file)
        except WorldgraphError as e:
            self.show_error("Cannot save graph", str(e))
            return False
        self.statusBar().showMessage(f"saved {file}", 5000)
        self._title()
        return True

    def _open_dialog(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Open graph", str(Path.cwd()), FILE_FILTER)
        if chosen:
            self.open_file(Path(chosen))

    def _save_as_dialog(self) -> bool:
        chosen, _ = QFileDialog.getSaveFileName(self, "Save graph as", str(self.doc.file or Path.cwd()), FILE_FILTER)
        return bool(chosen) and self.save_as(Path(chosen))

    def confirm_discard(self) -> bool:
        """The unsaved-changes guard: True when it is fine to drop the current graph."""
        if not self.doc.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", "Save the changes to this graph first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def show_error(self, title: str, text: str) -> None:
        """Window-modal, not blocking: the event loop (and tests) carry on."""
        self.error_box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self)
        self.error_box.open()
        self.log.add(f"{title}: {text}", level="error")

    def _title(self) -> None:
        name = self.doc.file.name if self.doc.file else "untitled"
        self.setWindowTitle(f"{name}[*] — {self.doc.graph.path} — worldgraph editor")
        self.setWindowModified(self.doc.dirty)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if not self.confirm_discard():
            event.ignore()
            return
        if self.runner.running:
            self.runner.cancel()
            self.runner.wait()
        event.accept()

    # ------------------------------------------------------------------ edit

    def lay_out(self) -> None:
        self.doc.move_nodes(layered_positions(self.doc.graph))
        self.canvas.fit_all()

    def select_for_screenshot(self) -> None:
        """Show the busiest node's properties: the one with the most inputs in use."""
        nodes = self.doc.graph.nodes.values()
        busiest = max(nodes, key=lambda n: (len(n.values) + len(n.connections), n.path))
        self.canvas.select(busiest.path)

    def _selected(self, paths: list[str]) -> None:
        path = paths[0] if len(paths) == 1 else None
        self.properties.show_node(path)
        last = self.runner.last
        if path and last and path in last.outputs:
            self.preview.set_result(last, focus=path)

    def _mark_invalid(self) -> None:
        if self.runner.running:
            return
        self.canvas.clear_states()
        for p in self.doc.problems():
            self.canvas.set_state(p.path, "invalid", f"invalid: {p.input or p.code}")

    # ------------------------------------------------------------------ run

    def run(self) -> bool:
        if self.runner.running:
            return False
        problems = self.doc.problems()
        if problems:
            self.log.add_problems(str(self.doc.file or self.doc.graph.path), problems)
            self._mark_invalid()
            return False
        self.canvas.clear_states()
        out_dir = self.out_dir or Path("out") / (self.doc.file.stem if self.doc.file else "untitled")
        self.runner.start(self.doc.snapshot(), out_dir)
        return True

    def _running(self, running: bool) -> None:
        self.run_action.setEnabled(not running)
        self.cancel_action.setEnabled(running)

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.GraphStarted):
            self.log.add(f"run {event.graph}: {event.nodes} nodes, seed {event.seed}")
            return
        if isinstance(event, ev.GraphFinished):
            level = "ok" if event.status in ("ok", "blocked") else "error"
            self.log.add(f"{event.status}: {event.ran} ran, {event.cached} cached in {event.seconds:.2f} s",
                         level=level)
            return
        state, badge, fraction, line = describe(event)
        path = getattr(event, "path", None)
        if state and path:
            self.canvas.set_state(path, state, badge, fraction)
        if line:
            self.log.add(line, path, "error" if state == "failed" else "info")

    def _on_finished(self, result: RunResult | None, error: str) -> None:
        if error:
            self.log.add(error, level="error")
        if result is not None:
            selected = self.canvas.selected_paths()
            self.preview.set_result(result, focus=selected[0] if selected else None)

    # ------------------------------------------------------------------ screenshot

    def screenshot(self, png: Path, size: tuple[int, int] = (2400, 1350)) -> None:
        """The whole window as a PNG, after layout and framing settle."""
        self.resize(*size)
        self.show()
        app = QApplication.instance()
        for _ in range(3):
            app.processEvents()
            self.canvas.fit_all(min_scale=0.6)
        png.parent.mkdir(parents=True, exist_ok=True)
        if not self.grab().save(str(png)):
            raise WorldgraphError(f"{png}: cannot write the screenshot")
