"""A node's run-state badge: a small pill above the node (idle, running 40 %, cached, ...)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .style import STATE_COLORS

_FONT = QFont("Sans", 8)
_W, _H = 150.0, 16.0


class StateBadge(QGraphicsItem):
    """Child item of a node view; paints the state text and, while running, a progress bar."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.state, self.text = "idle", ""
        self.fraction: float | None = None
        self.setPos(0, -_H - 3)
        self.setZValue(5)
        self.setVisible(False)

    def set_state(self, state: str, text: str = "", fraction: float | None = None) -> None:
        self.state, self.text, self.fraction = state, text or state, fraction
        self.setVisible(state != "idle")
        self.setToolTip(self.text)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, _W, _H)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,  # noqa: ARG002
              widget: QWidget | None = None) -> None:  # noqa: ARG002
        color = QColor(*STATE_COLORS.get(self.state, STATE_COLORS["idle"]))
        rect = self.boundingRect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1))
        painter.setBrush(QBrush(QColor(20, 20, 24, 230)))
        painter.drawRoundedRect(rect, 4, 4)
        if self.fraction is not None:
            done = QRectF(rect.x() + 1, rect.y() + 1, (rect.width() - 2) * self.fraction, rect.height() - 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor(color.red(), color.green(), color.blue(), 90)))
            painter.drawRoundedRect(done, 3, 3)
        painter.setPen(color)
        painter.setFont(_FONT)
        painter.drawText(rect.adjusted(6, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, self.text)
