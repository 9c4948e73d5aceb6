"""Lockdown: in the terminal's own mode the window stays full screen and on top, the keyboard
escapes do nothing, and it will not close until the terminal shuts down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from kiosk.app import KioskApp, build, qt_app
from kiosk.config.settings import load_settings
from kiosk.visit.session import Start, State

ESCAPES = [
    (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
    (Qt.Key.Key_Tab, Qt.KeyboardModifier.AltModifier),
    (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
    (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
]


@pytest.fixture
def kiosk(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskApp]:
    app = qt_app()
    kiosk = build(load_settings(data_dir=tmp_path / "data"), simulate=True)
    kiosk.window.lock_down()
    kiosk.window.showFullScreen()
    qtbot.waitExposed(kiosk.window)
    yield kiosk
    kiosk.window.unlock()
    kiosk.shutdown()
    kiosk.window.close()
    if kiosk.window.lockdown is not None:
        app.removeEventFilter(kiosk.window.lockdown)


def press(widget: object, key: Qt.Key, mods: Qt.KeyboardModifier) -> bool:
    """Deliver a real key press through the application, as the platform would."""
    event = QKeyEvent(QEvent.Type.KeyPress, key, mods)
    return QApplication.sendEvent(widget, event)  # type: ignore[arg-type]


def test_keyboard_escapes_do_nothing(qtbot: QtBot, kiosk: KioskApp) -> None:
    window, controller = kiosk.window, kiosk.controller
    controller.dispatch(Start())
    quits: list[bool] = []
    QApplication.instance().aboutToQuit.connect(lambda: quits.append(True))  # type: ignore[union-attr]
    for key, mods in ESCAPES:
        press(window, key, mods)
        press(window.focusWidget() or window, key, mods)
    qtbot.wait(50)
    assert window.lockdown.swallowed == 2 * len(ESCAPES)
    assert window.isVisible() and window.isFullScreen()
    assert window.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert controller.session.state is State.CATALOGUE  # Esc did not even go "back"
    assert quits == []


def test_the_window_refuses_to_close_until_shutdown(qtbot: QtBot, kiosk: KioskApp) -> None:
    window = kiosk.window
    assert window.close() is False
    assert window.isVisible()
    window.showNormal()  # e.g. a window manager shortcut
    qtbot.waitUntil(window.isFullScreen, timeout=2000)
    window.unlock()
    assert window.close() is True


def test_ordinary_keys_still_reach_the_terminal(kiosk: KioskApp) -> None:
    # The simulator's F2 (present a card) is not an escape: it is not swallowed.
    before = kiosk.window.lockdown.swallowed
    press(kiosk.window, Qt.Key.Key_F2, Qt.KeyboardModifier.NoModifier)
    assert kiosk.window.lockdown.swallowed == before
