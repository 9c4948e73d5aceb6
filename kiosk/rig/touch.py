"""A touch as a person makes it: only on a control that is on screen, enabled and not covered by
anything else at its centre, delivered at that point through the window system (offscreen: Qt's
window-level mouse events; x11: the X server's XTest extension, as a touch screen's driver does).
"""

from __future__ import annotations

import re
import time
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
PRESS_SECONDS = 0.03  # how long a finger rests on the glass (x11)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def accessible_name(widget: QWidget) -> str:
    """What a screen reader says for it: its accessible name, else a button's text."""
    name = widget.accessibleName()
    if not name and isinstance(widget, QAbstractButton):
        name = widget.text()
    return _plain(name)


class Toucher:
    def __init__(self, screen: str, window: QWidget) -> None:
        self.screen, self.window = screen, window
        self._x: Any = None
        if screen == "x11":
            try:
                from Xlib import display
            except ImportError as exc:
                from kiosk.rig.terminal import RigSetupError

                raise RigSetupError(
                    "--screen x11 touches through XTest with python-xlib: pip install python-xlib"
                ) from exc
            self._x = display.Display()

    def candidates(self, control: str) -> list[QWidget]:
        window = self.window
        if IDENTIFIER.match(control):
            found = window.findChildren(QWidget, control)
            return ([window] if window.objectName() == control else []) + list(found)
        wanted = _plain(control)
        return [w for w in window.findChildren(QWidget) if accessible_name(w) == wanted]

    def find(self, control: str) -> tuple[QWidget | None, str]:
        """The control a touch would reach, or why none would ("" when it can be touched)."""
        found = self.candidates(control)
        if not found:
            return None, "is no control of the terminal's window"
        shown = [w for w in found if w.isVisible() and w.width() > 0 and w.height() > 0]
        if not shown:
            return None, "is not on screen"
        enabled = [w for w in shown if w.isEnabled()]
        if not enabled:
            return None, "is on screen but greyed (disabled)"
        reason = ""
        for widget in enabled:
            centre = widget.mapToGlobal(widget.rect().center())
            hit = QApplication.widgetAt(centre)
            if hit is not None and (hit is widget or widget.isAncestorOf(hit)):
                return widget, ""
            other = hit.objectName() or type(hit).__name__ if hit is not None else "nothing"
            reason = f"is covered by {other} at its centre"
        return None, reason

    def touch(self, widget: QWidget) -> None:
        centre = widget.mapToGlobal(widget.rect().center())
        if self._x is not None:
            self._xtest(centre)
            return
        handle = self.window.windowHandle()
        local = self.window.mapFromGlobal(centre)
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mouseMove(handle, local)
        QTest.mousePress(handle, left, none, local)
        QTest.mouseRelease(handle, left, none, local)

    def _xtest(self, point: QPoint) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        # Qt places widgets in its own pixels; X takes the screen's (they differ when the
        # interface is scaled down for a small panel: runtime/display_scale.py).
        ratio = self.window.windowHandle().devicePixelRatio()
        x, y = round(point.x() * ratio), round(point.y() * ratio)
        xtest.fake_input(self._x, X.MotionNotify, x=x, y=y)
        xtest.fake_input(self._x, X.ButtonPress, 1)
        self._x.sync()
        end = time.monotonic() + PRESS_SECONDS
        while time.monotonic() < end:  # the loop keeps running while the finger rests
            QApplication.processEvents()
            time.sleep(0.002)
        xtest.fake_input(self._x, X.ButtonRelease, 1)
        self._x.sync()
        end = time.monotonic() + 0.1
        while time.monotonic() < end:  # the X server's events reach Qt
            QApplication.processEvents()
            time.sleep(0.002)

    def close(self) -> None:
        if self._x is not None:
            self._x.close()
            self._x = None
