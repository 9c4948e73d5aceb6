"""The success tick is drawn in the look's text-on-primary colour: white on teal, and in high
contrast black on yellow (white on yellow is barely 1.1:1)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtGui import QColor

from kiosk.app import qt_app
from screens import theme
from screens.widgets import CheckMark


@pytest.mark.parametrize(
    ("look", "tick"), [(theme.NORMAL, "#ffffff"), (theme.HIGH_CONTRAST, "#000000")]
)
def test_the_tick_reads_on_its_disc(qtbot: QtBot, look: theme.Look, tick: str) -> None:
    qt_app()
    theme.use(look)
    try:
        mark = CheckMark(100)
        picture = mark.grab().toImage()
        on_tick = QColor(picture.pixel(44, 68)).name()  # the tick's corner
        on_disc = QColor(picture.pixel(50, 15)).name()  # the disc above it
        assert on_tick == tick
        assert on_disc == QColor(look.primary).name()
    finally:
        theme.use(theme.NORMAL)
