"""The attract screen promises only what the terminal can do now: it invites an ID card only
while the reader can read one, and speaks of the network only when it is down, honestly."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QLabel

from kiosk.texts import Texts
from kiosk.visit.spoken import SpeechPlanner
from kiosk.visit.view import State, VisitView
from screens.main_window import KioskWindow


@pytest.fixture
def window(pages_window: KioskWindow) -> KioskWindow:
    return pages_window


def shown(window: KioskWindow, name: str) -> QLabel:
    label = window.findChild(QLabel, name)
    assert label is not None, name
    return label


@pytest.mark.parametrize(
    ("down", "language", "invite"),
    [
        (False, "zh_CN", "请轻触屏幕开始，或直接放置身份证"),
        (True, "zh_CN", "请轻触屏幕开始"),
        (True, "en", "Touch the screen to start"),
    ],
)
def test_a_card_is_invited_only_while_the_reader_can_read(
    window: KioskWindow, down: bool, language: str, invite: str
) -> None:
    view = VisitView(State.ATTRACT, language, 1, card_reader_down=down)
    window.show_view(view)
    assert shown(window, "attractSubtitle").text() == invite
    # The picture of a card going onto the reader is an invitation too.
    assert window.screens[State.ATTRACT].card_icon.isVisible() is not down  # type: ignore[attr-defined]
    spoken = SpeechPlanner().plan(view, Texts(language))
    assert spoken is not None and invite in spoken.text


@pytest.mark.parametrize(
    ("link", "says"),
    [("online", None), ("unknown", None), ("offline", "网络暂时中断，部分业务暂不能办理")],
)
def test_the_network_is_mentioned_only_when_it_is_down(
    window: KioskWindow, link: str, says: str | None
) -> None:
    window.show_view(VisitView(State.ATTRACT, "zh_CN", 1, sync_link=link))
    line = shown(window, "attractOffline")
    assert line.isVisible() == (says is not None)
    if says is not None:
        assert line.text() == says
