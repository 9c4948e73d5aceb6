"""A greyed service differs from one that works by more than a tint: its name loses its colour,
whatever happened before (a tile greyed at start and enabled later takes its colour back); in high
contrast the names are white."""

from __future__ import annotations

import pytest

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel

from kiosk.app import qt_app
from kiosk.visit.view import State, VisitView
from screens import theme
from screens.main_window import KioskWindow


@pytest.fixture
def window(pages_window: KioskWindow) -> KioskWindow:
    return pages_window


def name_colour(window: KioskWindow, code: str) -> str:
    label = window.findChild(QLabel, f"tileName_{code}")
    assert label is not None
    qt_app().processEvents()
    return label.palette().color(QPalette.ColorRole.WindowText).name().upper()


GREYED = {"certificate": ("device.printer_paper_out", "alternative.staff")}


def test_a_greyed_name_loses_its_colour_and_takes_it_back(window: KioskWindow) -> None:
    greyed = VisitView(State.CATALOGUE, "zh_CN", 1, unavailable=GREYED)
    window.show_view(greyed)
    assert name_colour(window, "certificate") == QColor(theme.NORMAL.disabled_text).name().upper()
    assert name_colour(window, "queue_ticket") == QColor(theme.NORMAL.tile_title).name().upper()
    window.show_view(VisitView(State.CATALOGUE, "zh_CN", 1))  # the printer has paper again
    assert name_colour(window, "certificate") == QColor(theme.NORMAL.tile_title).name().upper()


def test_in_high_contrast_the_names_are_white(window: KioskWindow) -> None:
    window.show_view(VisitView(State.CATALOGUE, "zh_CN", 1, contrast=True, unavailable=GREYED))
    assert name_colour(window, "queue_ticket") == "#FFFFFF"
    assert name_colour(window, "certificate") != "#FFFFFF"
