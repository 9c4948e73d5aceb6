"""The baseline for the startup benchmark: a bare PySide6 window that paints one label."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel


class FirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self.report)
            watched.removeEventFilter(self)
        return False

    def report(self) -> None:
        print(f"FIRST_PAINT {time.time():.6f}", flush=True)
        QApplication.quit()


app = QApplication(sys.argv[:1])
label = QLabel("欢迎使用自助服务终端")
spy = FirstPaint()
label.installEventFilter(spy)
label.resize(1920, 1080)
label.show()
app.exec()
