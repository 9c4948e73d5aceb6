"""Keeping the terminal the only thing a resident can use: full screen, on top, and deaf to the
keyboard shortcuts that close or leave an application.

A kiosk is deployed without a window manager (see deploy/), so nothing else answers Alt+Tab or
Alt+F4 either; here the application itself swallows them (and Esc, Ctrl+Q, Ctrl+W, F11) before
any widget sees them, and refuses to close unless the terminal itself is shutting down. The only
way out for a person is the hidden technician entry.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

log = logging.getLogger(__name__)

_ALT = Qt.KeyboardModifier.AltModifier
_CTRL = Qt.KeyboardModifier.ControlModifier
# (key, modifiers that must be held); an empty set means "with or without modifiers".
BLOCKED: tuple[tuple[Qt.Key, Qt.KeyboardModifier | None], ...] = (
    (Qt.Key.Key_F4, _ALT),
    (Qt.Key.Key_Tab, _ALT),
    (Qt.Key.Key_Backtab, _ALT),
    (Qt.Key.Key_Escape, None),
    (Qt.Key.Key_Q, _CTRL),
    (Qt.Key.Key_W, _CTRL),
    (Qt.Key.Key_F11, None),  # leave full screen
    (Qt.Key.Key_Super_L, None),
    (Qt.Key.Key_Super_R, None),
    (Qt.Key.Key_Meta, None),
)
_KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride)


def is_blocked(event: QKeyEvent) -> bool:
    key, mods = event.key(), event.modifiers()
    return any(key == k and (need is None or bool(mods & need)) for k, need in BLOCKED)


class Lockdown(QObject):
    """Installed on the QApplication: sees every key event first."""

    def __init__(self) -> None:
        super().__init__()
        self.swallowed = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _KEY_EVENTS and isinstance(event, QKeyEvent) and is_blocked(event):
            if event.type() == QEvent.Type.KeyPress:
                self.swallowed += 1
                log.info("keyboard escape ignored")  # which one is nobody's business
            return True
        return False
