"""The layout audit: on the live window, what a person would see cut off or out of place.

- The top-level window covers exactly the screen.
- Every visible widget lies inside its parent and inside the screen (scrolled content aside).
- Every text fits its widget in its font: a label's lines (wrapped ones too), a button's text
  inside the button's padding and border.
- No two visible widgets placed by the same layout overlap: a layout given less room than its
  fixed-size widgets need squeezes them onto each other, and each still "fits" on its own.

``tests/qt/test_layout.py`` runs it on every gallery screen in every theme and language; the
running terminal runs it after each screen change when ``KIOSK_LAYOUT_AUDIT=FILE`` is set
(the real-window tests read the file), writing one JSON line per problem.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QLayout,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QWidget,
)

if TYPE_CHECKING:
    from screens.main_window import KioskWindow

SLACK_PX = 1  # rounding in Qt's own arithmetic
log = logging.getLogger(__name__)


def _name(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, (QLabel, QAbstractButton)) else ""
    plain = " ".join(text.split())[:24] if text and not text.startswith("<") else ""
    return widget.objectName() or f"{type(widget).__name__}({plain!r})"


def _scrolled(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _button_contents(button: QPushButton) -> QRect:
    option = QStyleOptionButton()
    button.initStyleOption(option)
    return button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button)


def _text_problem(widget: QWidget) -> str | None:
    if isinstance(widget, QLabel):
        text = widget.text()
        pixmap = widget.pixmap()
        if not text or (pixmap is not None and not pixmap.isNull()):
            return None
        room = widget.contentsRect()
        if widget.wordWrap():
            need = widget.heightForWidth(widget.width())
            if need > widget.height() + SLACK_PX:
                return f"wrapped text needs {need} px of height, has {widget.height()}"
            return None
        if text.startswith("<"):
            return None  # rich text without wrapping: its own layout, not measured here
        return _fits(widget, text, room)
    if isinstance(widget, QPushButton) and widget.text():
        return _fits(widget, widget.text(), _button_contents(widget))
    return None


def _fits(widget: QWidget, text: str, room: QRect) -> str | None:
    """Whether the drawn text fits *room*: its advance across, its inked height up and down (a
    210 px ticket number needs its glyphs' height, not the font's line height)."""
    metrics = QFontMetrics(widget.font())
    lines = text.split("\n")
    wide = max(metrics.horizontalAdvance(line) for line in lines)
    if len(lines) == 1:
        high = metrics.tightBoundingRect(text).height()
    else:
        high = metrics.boundingRect(QRect(0, 0, 100_000, 100_000), 0, text).height()
    if wide > room.width() + SLACK_PX or high > room.height() + SLACK_PX:
        return f"text needs {wide}x{high}, has {room.width()}x{room.height()}"
    return None


def _laid_out(parent: QWidget) -> list[QWidget]:
    """The widgets *parent*'s layout places, nested layouts included (overlays excluded)."""
    found: list[QWidget] = []
    top = parent.layout()
    pending: list[QLayout] = [top] if top is not None else []
    while pending:
        layout = pending.pop()
        for i in range(layout.count()):
            item = layout.itemAt(i)
            widget = item.widget() if item is not None else None
            inner = item.layout() if item is not None else None
            if widget is not None:
                found.append(widget)
            elif inner is not None:
                pending.append(inner)
    return found


def _overlaps(window: QWidget) -> list[str]:
    problems = []
    for parent in [window, *window.findChildren(QWidget)]:
        if not parent.isVisible() or _scrolled(parent):
            continue
        placed = [w for w in _laid_out(parent) if w.isVisible() and w.width() > 0]
        for i, one in enumerate(placed):
            for other in placed[i + 1 :]:
                both = one.geometry().intersected(other.geometry())
                if both.width() > SLACK_PX and both.height() > SLACK_PX:
                    problems.append(
                        f"{_name(one)} and {_name(other)} overlap by "
                        f"{both.width()}x{both.height()} in {_name(parent)}"
                    )
    return problems


def audit(window: QWidget) -> list[str]:
    """What is wrong with the window as it is on screen now; empty when nothing is."""
    problems: list[str] = []
    screen = (window.screen() or QApplication.primaryScreen()).geometry()
    frame = window.geometry()
    if (window.isFullScreen() or window.maximumSize() == screen.size()) and frame != screen:
        problems.append(
            f"window is {frame.width()}x{frame.height()} at ({frame.x()},{frame.y()}), "
            f"the screen {screen.width()}x{screen.height()}"
        )
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window or widget.isWindow():
            continue
        if widget.width() <= 0 or widget.height() <= 0 or _scrolled(widget):
            continue
        parent = widget.parentWidget()
        name = _name(widget)
        if parent is not None and not parent.rect().adjusted(
            -SLACK_PX, -SLACK_PX, SLACK_PX, SLACK_PX
        ).contains(widget.geometry()):
            geometry = widget.geometry()
            problems.append(
                f"{name} ({geometry.x()},{geometry.y()} {geometry.width()}x{geometry.height()}) "
                f"sticks out of {_name(parent)} ({parent.width()}x{parent.height()})"
            )
        corner = widget.mapToGlobal(QPoint(0, 0))
        if not screen.contains(QRect(corner, widget.size())):
            problems.append(f"{name} is off the screen at ({corner.x()},{corner.y()})")
        text = _text_problem(widget)
        if text is not None:
            problems.append(f"{name}: {text}")
    return problems + _overlaps(window)


class LiveAudit(QObject):
    """Runs the audit after each screen change, and after any widget of the window is shown
    (a technician's page, an overlay, a page turned), and appends what it finds to *path*."""

    def __init__(self, window: KioskWindow, path: Path) -> None:
        super().__init__(window)
        self._window, self._path = window, path
        self._timer = QTimer(window)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Show
            and isinstance(watched, QWidget)
            and watched.window() is self._window
        ):
            self.soon()
        return False

    def soon(self) -> None:
        self._timer.start(50)  # after the layout has settled

    def run(self) -> None:
        view = self._window.view
        where = {
            "state": view.state.value if view else None,
            "elder": bool(view and view.elder),
            "contrast": bool(view and view.contrast),
            "language": view.language if view else None,
        }
        lines = [
            json.dumps({**where, "problem": p}, ensure_ascii=False) for p in audit(self._window)
        ]
        if not lines:
            return
        try:
            with self._path.open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
        except OSError as exc:  # a rig's mistake: say it once in the log, keep the terminal going
            log.error("layout audit cannot write %s: %s", self._path, exc)


def install_live_audit(window: KioskWindow) -> LiveAudit | None:
    path = os.environ.get("KIOSK_LAYOUT_AUDIT")
    return LiveAudit(window, Path(path)) if path else None
