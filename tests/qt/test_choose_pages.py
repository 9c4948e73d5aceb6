"""The choose step under its service's own question, and no more options at once than the look
allows: elder mode shows four and turns pages with a large button, nothing cut."""

from __future__ import annotations

from dataclasses import replace

from pytestqt.qtbot import QtBot

from PySide6.QtWidgets import QAbstractButton, QLabel

from contracts.catalogue import Catalogue, ServiceOption
from kiosk.app import look_of, qt_app
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.visit.view import State, VisitView
from screens.layout_audit import audit
from screens.main_window import KioskWindow

SIX = tuple(
    ServiceOption(f"kind{n}", chr(ord("A") + n), {"zh_CN": f"窗口类型{n}", "en": f"Kind {n}"})
    for n in range(6)
)


def catalogue_with_six_options() -> Catalogue:
    shipped = default_catalogue()
    services = tuple(
        replace(s, options=SIX) if s.code == "queue_ticket" else s for s in shipped.services
    )
    return Catalogue(services)


def visible_options(window: KioskWindow) -> list[str]:
    page = window.screens[State.CHOOSE]
    return [
        b.objectName()
        for b in page.findChildren(QAbstractButton)
        if b.isVisible() and b.objectName().startswith("option_")
    ]


def title(window: KioskWindow) -> str:
    found = window.screens[State.CHOOSE].findChild(QLabel, "chooseTitle")
    assert found is not None
    return found.text()


def test_each_service_asks_its_own_question(pages_window: KioskWindow) -> None:
    pages_window.show_view(VisitView(State.CHOOSE, "zh_CN", 1, service="certificate"))
    assert title(pages_window) == "请选择要打印的证明"
    pages_window.show_view(VisitView(State.CHOOSE, "zh_CN", 1, service="queue_ticket"))
    assert title(pages_window) == "请选择您要办理的业务类型"


def settle() -> None:
    qt_app().processEvents()


def test_elder_mode_shows_four_options_a_page(qtbot: QtBot) -> None:
    qt_app()
    window = KioskWindow(look_of(load_settings()))
    window.add_pages(catalogue_with_six_options())
    window.setFixedSize(1920, 1080)
    window.show()
    try:
        view = VisitView(State.CHOOSE, "zh_CN", 1, service="queue_ticket", elder=True)
        window.show_view(view)
        settle()
        assert visible_options(window) == [f"option_kind{n}" for n in range(4)]
        assert audit(window) == []
        more = window.screens[State.CHOOSE].findChild(QAbstractButton, "chooseMore")
        assert more is not None and more.isVisible()
        assert "第 1/2 页" in more.text()
        more.click()
        settle()
        assert visible_options(window) == ["option_kind4", "option_kind5"]
        assert audit(window) == []
        # Normal mode shows all six at once, no page buttons.
        window.show_view(VisitView(State.CHOOSE, "zh_CN", 2, service="queue_ticket"))
        settle()
        assert len(visible_options(window)) == 6 and not more.isVisible()
        assert audit(window) == []
    finally:
        window.close()
