"""The log panel: run events and validation problems; clicking a line selects its node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from worldgraph.nodes import Problem

LEVEL_COLORS = {"info": QColor(200, 200, 200), "error": QColor(255, 110, 90), "ok": QColor(110, 220, 130)}


class LogPanel(QListWidget):
    node_activated = Signal(str)  # prim path

    def __init__(self) -> None:
        super().__init__()
        self.itemClicked.connect(self._clicked)

    def add(self, text: str, path: str | None = None, level: str = "info") -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setForeground(LEVEL_COLORS[level])
        if path:
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(f"click to select {path}")
        self.addItem(item)
        self.scrollToBottom()
        return item

    def add_problems(self, source: str, problems: list[Problem]) -> None:
        self.add(f"{source}: {len(problems)} problem(s); nothing ran", level="error")
        for p in problems:
            self.add(f"  {p}", p.path, "error")

    def lines(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def _clicked(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path:
            self.node_activated.emit(str(path))
