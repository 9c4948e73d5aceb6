"""The rating speaks the national 好差评 scale: five levels, in its own words, worst to best."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QPushButton

from kiosk.visit.view import State, VisitView
from screens.main_window import KioskWindow

LEVELS = {
    "zh_CN": ["非常不满意", "不满意", "基本满意", "满意", "非常满意"],
    "en": ["Very dissatisfied", "Dissatisfied", "Fairly satisfied", "Satisfied", "Very satisfied"],
}


@pytest.fixture
def window(pages_window: KioskWindow) -> KioskWindow:
    return pages_window


@pytest.mark.parametrize("language", sorted(LEVELS))
def test_the_five_faces_carry_the_national_levels(window: KioskWindow, language: str) -> None:
    window.show_view(VisitView(State.RATING, language, 1, service="queue_ticket"))
    words = []
    for score in range(1, 6):
        face = window.findChild(QPushButton, f"rate{score}")
        assert face is not None
        words.append(" ".join(face.text().split()))  # a long English word may take two lines
    assert words == LEVELS[language]
