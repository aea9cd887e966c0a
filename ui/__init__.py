"""The PySide6 + NodeGraphQt editor (install the ``ui`` extra)."""
