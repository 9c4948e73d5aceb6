"""What the screen tests share: the terminal's window with every page, shown, without a backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from kiosk.app import look_of, qt_app
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from screens.main_window import KioskWindow


@pytest.fixture
def pages_window(qtbot: QtBot) -> Iterator[KioskWindow]:
    """The main window with the shipped catalogue's pages, as the gallery builds it."""
    qt_app()
    win = KioskWindow(look_of(load_settings()))
    win.add_pages(default_catalogue())
    win.show()
    yield win
    win.close()
