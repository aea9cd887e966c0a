"""The properties panel: a form generated from the selected node's schema. Each commit is
one document edit (one undo step); problems with the node are shown beside its fields."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from worldgraph.nodes import REQUIRED, GraphEditError, Input
from worldgraph.nodes.types import ASSET, BOOL, ENUM, FLOAT, INT, OUTPUT_FILE, STRING

from .document import GraphDocument

BIG = 1_000_000_000
ASSET_FILTERS = {  # picked by words in the input's doc
    "usd": "USD files (*.usda *.usd *.usdc)",
    "video": "Videos and images (*.mp4 *.mov *.avi *.mkv *.png *.jpg *.jpeg)",
    "json": "Specs (*.json)",
}


class PromptEdit(QPlainTextEdit):
    committed = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt's name)
        super().focusOutEvent(event)
        self.committed.emit()


class PropertiesPanel(QScrollArea):
    def __init__(self, doc: GraphDocument) -> None:
        super().__init__()
        self.doc = doc
        self.path: str | None = None
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.setWidgetResizable(True)
        self._rebuild_soon = QTimer(self, singleShot=True, interval=0, timeout=self.rebuild)
        self._committing = False
        doc.changed.connect(lambda paths: self._changed(paths))
        doc.reset.connect(lambda: self.show_node(None))
        self.show_node(None)

    def _changed(self, paths: set[str]) -> None:
        # our own commit already shows its value: rebuilding would take the focus away
        # mid-edit; undo, redo and canvas edits rebuild the form
        if self.path in paths and not self._committing:
            self._rebuild_soon.start()

    def show_node(self, path: str | None) -> None:
        self.path = path if path in self.doc.graph.nodes else None
        self.rebuild()

    def rebuild(self) -> None:
        self.editors, self.errors = {}, {}
        body = QWidget()
        outer = QVBoxLayout(body)
        if self.path is None or self.path not in self.doc.graph.nodes:
            outer.addWidget(QLabel("Select a node to edit its inputs."))
            outer.addStretch()
            self.setWidget(body)
            return
        node = self.doc.graph.nodes[self.path]
        title = QLabel(f"<b style='font-size:14px'>{node.name}</b><br><code>{node.type_id}</code>"
                       f" v{node.type_version}<br><span style='color:#888'>{self.path}</span>")
        outer.addWidget(title)
        problems = self.doc.problems()
        for p in problems:
            if p.path == self.path and p.input is None:
                outer.addWidget(self._error_label(p.reason))
        if node.type_id not in self.doc.registry:
            outer.addStretch()
            self.setWidget(body)
            return
        schema = self.doc.registry.get(node.type_id).schema
        doc = QLabel(schema.doc)
        doc.setWordWrap(True)
        doc.setStyleSheet("color:#aaa")
        outer.addWidget(doc)
        form = QFormLayout()
        outer.addLayout(form)
        for spec in schema.inputs:
            label = QLabel(spec.name)
            default = "" if spec.default is REQUIRED else f" (default {spec.default!r})"
            label.setToolTip(f"{spec.type}{default}\n{spec.doc}")
            cell = QVBoxLayout()
            editor = self._editor(spec, node.values, node.connections)
            editor.setToolTip(label.toolTip())
            self.editors[spec.name] = editor
            cell.addWidget(editor)
            error = self._error_label("")
            error.setVisible(False)
            self.errors[spec.name] = error
            cell.addWidget(error)
            for p in problems:
                if p.path == self.path and p.input == spec.name:
                    self._show_error(spec.name, p.reason)
            form.addRow(label, cell)
        outer.addStretch()
        self.setWidget(body)

    @staticmethod
    def _error_label(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color:#ff6e5a")
        return label

    def _show_error(self, name: str, text: str) -> None:
        self.errors[name].setText(text)
        self.errors[name].setVisible(bool(text))

    def _editor(self, spec: Input, values: dict[str, Any], connections: dict[str, Any]) -> QWidget:
        if spec.name in connections:
            conn = connections[spec.name]
            return QLabel(f"← {conn.node.rsplit('/', 1)[-1]}.{conn.output}")
        if spec.type.connection_only:
            text = f"connect a {spec.type}" + (" (required)" if spec.required else " (optional)")
            return QLabel(f"<span style='color:#888'>{text}</span>")
        value = values.get(spec.name, None if spec.default is REQUIRED else spec.default)
        name = spec.name
        if spec.type is INT:
            box = QSpinBox(keyboardTracking=False)
            lo, hi = spec.range or (None, None)
            box.setRange(int(lo) if lo is not None else -BIG, int(min(hi, BIG)) if hi is not None else BIG)
            box.setValue(int(value or 0))
            box.valueChanged.connect(lambda v: self.commit(name, int(v)))
            return box
        if spec.type is FLOAT:
            dbox = QDoubleSpinBox(keyboardTracking=False, decimals=3)
            lo, hi = spec.range or (None, None)
            dbox.setRange(float(lo) if lo is not None else -BIG, float(hi) if hi is not None else BIG)
            dbox.setSingleStep(0.05 if hi is not None and hi <= 1 else 0.5)
            dbox.setValue(float(value or 0.0))
            dbox.valueChanged.connect(lambda v: self.commit(name, float(v)))
            return dbox
        if spec.type is BOOL:
            check = QCheckBox()
            check.setChecked(bool(value))
            check.toggled.connect(lambda v: self.commit(name, bool(v)))
            return check
        if spec.type is ENUM:
            combo = QComboBox()
            combo.addItems(list(spec.choices or ()))
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda v: self.commit(name, v))
            return combo
        if spec.type is STRING and ("prompt" in spec.doc.lower() or spec.name in ("text", "prompt")):
            prompt = PromptEdit(str(value or ""))
            prompt.setFixedHeight(70)
            prompt.committed.connect(lambda: self.commit(name, prompt.toPlainText()))
            return prompt
        line = QLineEdit("" if value is None else str(value))
        line.editingFinished.connect(lambda: self.commit(name, line.text()))
        if spec.type is ASSET:
            return self._with_picker(spec, line)
        if spec.type not in (STRING, OUTPUT_FILE):
            line.setReadOnly(True)  # a type the panel cannot edit: show it, keep it
        return line

    def _with_picker(self, spec: Input, line: QLineEdit) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(line)
        pick = QToolButton(text="…")
        pick.setToolTip("choose a file")
        wanted = [f for word, f in ASSET_FILTERS.items() if word in spec.doc.lower()]
        filters = ";;".join([*wanted, "All files (*)"])

        def choose() -> None:
            base = self.doc.graph.base_dir or Path.cwd()
            chosen, _ = QFileDialog.getOpenFileName(self, f"Choose {spec.name}", str(base), filters)
            if chosen:
                # relative to the graph's folder, as the file stores it, when it is near
                rel = os.path.relpath(chosen, base)
                line.setText(rel if not rel.startswith(("../../..",)) else chosen)
                self.commit(spec.name, line.text())

        pick.clicked.connect(choose)
        layout.addWidget(pick)
        return row

    def commit(self, name: str, value: Any) -> None:
        if self.path is None:
            return
        self._committing = True
        try:
            self.doc.set_value(self.path, name, value)
        except GraphEditError as e:
            self._show_error(name, str(e).split(": ", 1)[-1])
        else:
            self._show_error(name, "")
        finally:
            self._committing = False
