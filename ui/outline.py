"""The stage outline: the scene prims that live in the graph's file beside the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem


class StageOutline(QTreeWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setHeaderLabels(["prim", "type"])

    def show_file(self, file: Path | None, graph_path: str) -> int:
        """List every prim of ``file``'s stage outside the graph; returns how many."""
        from pxr import Usd

        self.clear()
        if file is None or not file.exists():
            return 0
        stage = Usd.Stage.Open(str(file), Usd.Stage.LoadNone)
        items: dict[str, Any] = {}
        count = 0
        for prim in stage.Traverse():
            path = str(prim.GetPath())
            if path == graph_path or path.startswith(graph_path + "/"):
                continue
            parent = items.get(str(prim.GetPath().GetParentPath()), self)
            items[path] = QTreeWidgetItem(parent, [prim.GetName(), prim.GetTypeName()])
            count += 1
        if count == 0:
            QTreeWidgetItem(self, ["(no scene prims in this file)", ""])
        self.expandToDepth(1)
        return count
