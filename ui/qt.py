"""The Qt binding, chosen once: PySide6 for our widgets and for NodeGraphQt's Qt.py shim.

Qt.py picks the first binding it finds; with PyQt5 also installed it could hand
NodeGraphQt a different Qt than ours, and the two cannot share a QApplication."""

from __future__ import annotations

import os

os.environ.setdefault("QT_PREFERRED_BINDING", "PySide6")
os.environ.setdefault("QT_API", "pyside6")


class MissingUI(ImportError):
    """The ``ui`` extra (PySide6-Essentials, NodeGraphQt) is not installed."""


def require() -> None:
    """Import the GUI stack, or say exactly what to install."""
    try:
        import NodeGraphQt  # noqa: F401
        import PySide6  # noqa: F401
        from Qt import __binding__
    except ImportError as e:
        raise MissingUI(
            f"the editor needs the 'ui' extra ({e.name or e}): pip install 'worldgraph[ui]'"
        ) from None
    if __binding__ != "PySide6":
        raise MissingUI(f"NodeGraphQt's Qt.py shim bound to {__binding__}, not PySide6")
