"""A QR code drawn on screen, for the resident to photograph when paper is not possible."""

from __future__ import annotations

import segno

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget


class QrCode(QWidget):
    def __init__(self, size: int = 260) -> None:
        super().__init__()
        self.setObjectName("qrCode")
        self.setFixedSize(size, size)
        self._matrix: tuple[tuple[int, ...], ...] = ()

    def set_text(self, text: str) -> None:
        self._matrix = (
            tuple(tuple(row) for row in segno.make(text, error="m").matrix) if text else ()
        )
        self.update()

    @property
    def text_set(self) -> bool:
        return bool(self._matrix)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if not self._matrix:
            return
        quiet = 2  # modules of white around the code so phones find its edges
        cells = len(self._matrix) + 2 * quiet
        step = self.width() / cells
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("black"))
        for y, row in enumerate(self._matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.drawRect(QRectF((x + quiet) * step, (y + quiet) * step, step, step))
