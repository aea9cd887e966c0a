"""The node palette: every registered type by category, filtered as you type."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from worldgraph.nodes import Registry


class Palette(QWidget):
    chosen = Signal(str)  # a node type id to add

    def __init__(self, registry: Registry) -> None:
        super().__init__()
        self.search = QLineEdit(placeholderText="search nodes (Tab on the canvas too)")
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        families: dict[str, QTreeWidgetItem] = {}
        for t in registry:
            schema = t.schema
            family = families.get(schema.category)
            if family is None:
                family = families[schema.category] = QTreeWidgetItem(self.tree, [schema.category])
            item = QTreeWidgetItem(family, [schema.id.rsplit(".", 1)[-1]])
            item.setData(0, Qt.ItemDataRole.UserRole, schema.id)
            item.setToolTip(0, f"{schema.id}\n{schema.doc}")
        self.tree.expandAll()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._choose_first)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemDoubleClicked.connect(self._activated)

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for family in self._families():
            shown = 0
            for j in range(family.childCount()):
                item = family.child(j)
                haystack = f"{item.data(0, Qt.ItemDataRole.UserRole)} {item.toolTip(0)}".lower()
                hide = not all(w in haystack for w in words)
                item.setHidden(hide)
                shown += not hide
            family.setHidden(shown == 0)

    def visible_types(self) -> list[str]:
        found = []
        for family in self._families():
            for j in range(family.childCount()):
                item = family.child(j)
                if not item.isHidden() and not family.isHidden():
                    found.append(str(item.data(0, Qt.ItemDataRole.UserRole)))
        return found

    def _families(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [f for f in items if f is not None]

    def _choose_first(self) -> None:
        visible = self.visible_types()
        if visible:
            self.chosen.emit(visible[0])

    def _activated(self, item: QTreeWidgetItem) -> None:
        type_id = item.data(0, Qt.ItemDataRole.UserRole)
        if type_id:
            self.chosen.emit(str(type_id))
