"""The rating screen as a resident reads it: faces first with 跳过 beside them; after a face, the
reasons that fit it, 提交 and the seconds left; for the unhappy faces the question is the title."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QAbstractButton, QLabel

from kiosk.visit.view import State, VisitView
from screens.main_window import KioskWindow


@pytest.fixture
def window(pages_window: KioskWindow) -> KioskWindow:
    return pages_window


def seen(window: KioskWindow) -> tuple[str, list[str]]:
    """The title and the words on every visible button of the page, as a person reads them."""
    page = window.screens[State.RATING]
    title = page.findChild(QLabel, "ratingTitle")
    assert title is not None
    buttons = [
        " ".join(b.text().split())
        for b in page.findChildren(QAbstractButton)
        if b.isVisible() and b.text()
    ]
    return title.text(), buttons


def labels(window: KioskWindow) -> list[str]:
    page = window.screens[State.RATING]
    return [w.text() for w in page.findChildren(QLabel) if w.isVisible() and w.text()]


FACES = ["非常不满意", "不满意", "基本满意", "满意", "非常满意"]


def test_before_a_face_only_faces_and_skip(window: KioskWindow) -> None:
    window.show_view(VisitView(State.RATING, "zh_CN", 1, service="queue_ticket"))
    title, buttons = seen(window)
    assert title == "您对本次服务满意吗？"
    assert buttons == [*FACES, "跳过"]


def test_an_unhappy_face_brings_the_complaints_forward(window: KioskWindow) -> None:
    view = VisitView(State.RATING, "zh_CN", 1, rating=2, rating_reasons=("wait",),
                     rating_submit_in=28)  # fmt: skip
    window.show_view(view)
    title, buttons = seen(window)
    assert title == "哪里让您不满意？"
    assert buttons == [*FACES, "等待太久", "操作太难", "设备有问题", "没办成", "提交"]
    assert "跳过" not in buttons  # a way out, never one of the reasons
    assert "28 秒后自动提交" in labels(window)
    page = window.screens[State.RATING]
    checked = [b.text() for b in page.findChildren(QAbstractButton) if b.isChecked()]
    assert checked == ["不满意", "等待太久"]


def test_a_happy_face_offers_praise_in_english(window: KioskWindow) -> None:
    window.show_view(VisitView(State.RATING, "en", 1, rating=5, rating_submit_in=9))
    title, buttons = seen(window)
    assert title == "Thank you for your rating"
    assert buttons[5:] == ["Quick", "Easy to use", "Clear steps", "Done in one go", "Submit"]
    assert "What went well? Pick any, or none." in labels(window)
