"""Every step of a service shows where the resident is (第 2 步 / 共 3 步) in the header, in place
of the clock; outside a service's steps the clock is back."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QLabel

from kiosk.visit.view import State, VisitView
from screens.main_window import KioskWindow


@pytest.fixture
def window(pages_window: KioskWindow) -> KioskWindow:
    return pages_window


def label(window: KioskWindow, name: str) -> QLabel:
    found = window.findChild(QLabel, name)
    assert found is not None, name
    return found


@pytest.mark.parametrize(
    ("language", "says"), [("zh_CN", "第 2 步 / 共 3 步"), ("en", "Step 2 of 3")]
)
def test_a_step_says_where_the_resident_is(window: KioskWindow, language: str, says: str) -> None:
    view = VisitView(State.CHOOSE, language, 1, service="queue_ticket", step=2, steps=3)
    window.show_view(view)
    assert label(window, "stepIndicator").isVisible()
    assert label(window, "stepIndicator").text() == says
    assert not label(window, "Clock").isVisible()


def test_outside_the_steps_the_clock_is_back(window: KioskWindow) -> None:
    window.show_view(VisitView(State.CHOOSE, "zh_CN", 1, service="queue_ticket", step=2, steps=3))
    window.show_view(VisitView(State.RESULT, "zh_CN", 1, service="queue_ticket"))
    assert not label(window, "stepIndicator").isVisible()
    assert label(window, "Clock").isVisible()
