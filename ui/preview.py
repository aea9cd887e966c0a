"""Preview of a run's results: a player for Video/Control outputs (play, scrub), single
frames and PNGs as images, A/B side by side (control vs generated), links to written
files and folders (a dataset's output folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from worldgraph.nodes import RunResult
from worldgraph.nodes.types import Dataset, Video

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def to_pixmap(frame: np.ndarray) -> QPixmap:
    """A uint8 [H, W, 3] frame as a pixmap (copied: numpy memory is not Qt's)."""
    frame = np.ascontiguousarray(frame)
    h, w, _ = frame.shape
    return QPixmap.fromImage(QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


class Screen(QLabel):
    """Shows one frame (or image) scaled to fit, keeping its aspect."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(120, 90)
        self.setStyleSheet("background:#111; color:#777")
        self.source: QPixmap | None = None

    def show_pixmap(self, pixmap: QPixmap | None, empty: str = "") -> None:
        self.source = pixmap
        if pixmap is None:
            self.setPixmap(QPixmap())
            self.setText(empty)
        else:
            self.setPixmap(pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.FastTransformation))


class PreviewPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.sources: dict[str, Any] = {}  # "node.output" -> Video or image Path
        self.a, self.b = QComboBox(), QComboBox()
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_label = QLabel("")
        self.screen_a, self.screen_b = Screen(), Screen()
        self.links = QLabel("")
        self.links.setOpenExternalLinks(True)
        self.links.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.timer = QTimer(self, interval=1000 // 12)

        controls = QHBoxLayout()
        for w in (QLabel("A"), self.a, QLabel("B"), self.b, self.play, self.slider, self.frame_label):
            controls.addWidget(w)
        controls.setStretch(5, 1)
        screens = QHBoxLayout()
        screens.addWidget(self.screen_a)
        screens.addWidget(self.screen_b)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(screens, 1)
        layout.addWidget(self.links)

        self.a.currentTextChanged.connect(self._choose)
        self.b.currentTextChanged.connect(self._choose)
        self.slider.valueChanged.connect(self.show_frame)
        self.play.toggled.connect(lambda on: self.timer.start() if on else self.timer.stop())
        self.timer.timeout.connect(self._tick)
        self.set_result(None)

    # ------------------------------------------------------------------ content

    def set_result(self, result: RunResult | None, focus: str | None = None) -> None:
        """Offer every video and image the run made; show ``focus``'s (a node path) first."""
        self.sources = {}
        links = []
        for path, outputs in (result.outputs.items() if result else ()):
            name = path.rsplit("/", 1)[-1]
            for key, value in outputs.items():
                label = f"{name}.{key}"
                shown = isinstance(value, Path) and value.suffix.lower() in IMAGE_SUFFIXES
                if isinstance(value, Video) or shown:
                    self.sources[label] = value
                if isinstance(value, (Path, Dataset)):
                    target = value.root if isinstance(value, Dataset) else value
                    url = QUrl.fromLocalFile(str(target.resolve())).toString()
                    links.append(f"<a href='{url}'>{label}: {target.name}{'/' if target.is_dir() else ''}</a>")
        self.links.setText("written: " + " · ".join(dict.fromkeys(links)) if links else "")
        names = list(self.sources)
        first = next((n for n in names if focus and n.startswith(focus.rsplit("/", 1)[-1] + ".")),
                     names[-1] if names else "")
        for combo, items, current in ((self.a, names, first), (self.b, ["(none)", *names], "(none)")):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.setCurrentText(current)
            combo.blockSignals(False)
        self._choose()

    def compare(self, a: str, b: str) -> None:
        self.a.setCurrentText(a)
        self.b.setCurrentText(b)

    def _frames(self, label: str) -> int:
        source = self.sources.get(label)
        return len(source.frames) if isinstance(source, Video) else 1

    def _choose(self) -> None:
        count = max(self._frames(self.a.currentText()), self._frames(self.b.currentText()))
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setEnabled(count > 1)
        self.play.setEnabled(count > 1)
        fps = next((s.fps for s in self.sources.values() if isinstance(s, Video)), 12.0)
        self.timer.setInterval(max(int(1000 / fps), 15))
        self.screen_b.setVisible(self.b.currentText() in self.sources)
        self.show_frame(self.slider.value())

    def show_frame(self, index: int) -> None:
        for combo, screen in ((self.a, self.screen_a), (self.b, self.screen_b)):
            source = self.sources.get(combo.currentText())
            if isinstance(source, Video):
                screen.show_pixmap(to_pixmap(source.frames[min(index, len(source.frames) - 1)]))
            elif isinstance(source, Path):
                screen.show_pixmap(QPixmap(str(source)))
            else:
                screen.show_pixmap(None, "run the graph to preview its videos")
        count = self.slider.maximum() + 1
        self.frame_label.setText(f"{index + 1}/{count}" if self.sources else "")

    def _tick(self) -> None:
        self.slider.setValue((self.slider.value() + 1) % (self.slider.maximum() + 1))
