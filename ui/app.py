"""Start the editor: ``worldgraph edit [GRAPH] [--screenshot PNG]``."""

from __future__ import annotations

import sys
from pathlib import Path

from . import qt


def main(graph: Path | None = None, screenshot: Path | None = None) -> int:
    qt.require()
    from PySide6.QtWidgets import QApplication

    from .window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("worldgraph editor")
    app.setStyle("Fusion")
    window = MainWindow()
    opened = window.open_file(graph) if graph is not None else True
    if screenshot is not None:
        if opened and window.doc.graph.nodes:
            window.select_for_screenshot()
        window.screenshot(screenshot)
        return 0 if opened else 2
    window.resize(1600, 960)
    window.show()
    return int(app.exec())
