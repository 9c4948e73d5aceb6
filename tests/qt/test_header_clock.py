"""The header's clock reads as residents say a date, in their language, not as an ISO string."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QLabel

from kiosk.texts import Texts
from kiosk.visit.view import State, VisitView
from screens.chrome import clock_text
from screens.main_window import KioskWindow


def test_the_clock_in_each_language() -> None:
    moment = datetime(2026, 12, 5, 14, 3)
    assert clock_text(moment, Texts("zh_CN")) == "12月5日 星期六  14:03"
    assert clock_text(moment, Texts("en")) == "Sat 5 Dec  14:03"


def test_the_header_shows_it_and_follows_the_language(pages_window: KioskWindow) -> None:
    clock = pages_window.findChild(QLabel, "Clock")
    assert clock is not None
    pages_window.show_view(VisitView(State.ATTRACT, "zh_CN", 1))
    assert "星期" in clock.text() and "-" not in clock.text()
    pages_window.show_view(VisitView(State.ATTRACT, "en", 1))
    assert clock.text().split()[0] in {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
