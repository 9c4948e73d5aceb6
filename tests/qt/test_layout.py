"""Every screen fits the 1920x1080 panel in every theme and language, nothing on it is clipped
(the layout audit of screens/layout_audit.py, on a window that is the screen, as the terminal's
is), and the elder theme keeps its promises: main text >= 30 pt (40 px), body >= 18 pt (24 px),
touch targets >= 60x60 dp, line spacing >= 1.3. Checked on the same views as the gallery."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from kiosk.app import look_of, qt_app
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.gallery import GALLERY_THEMES, gallery_views
from kiosk.texts import LANGUAGES
from screens.layout_audit import audit
from screens.main_window import KioskWindow
from screens.widgets import LINE_HEIGHT_PERCENT, Words

MAIN_PX, BODY_PX, TOUCH_PX = 40, 24, 60


@pytest.fixture(scope="module")
def window() -> Iterator[KioskWindow]:
    qt_app()
    win = KioskWindow(look_of(load_settings()))
    win.add_pages(default_catalogue())
    screen = qt_app().primaryScreen().geometry()
    win.setGeometry(screen)  # as kiosk run does: the window is the screen, and cannot grow
    win.setFixedSize(screen.size())
    win.showFullScreen()
    yield win
    win.close()


def shown(window: KioskWindow, theme: str, language: str) -> Iterator[tuple[str, QWidget]]:
    elder, contrast = GALLERY_THEMES[theme]
    for name, view in gallery_views(language):
        window.show_view(replace(view, elder=elder, contrast=contrast,
                                 suggest_elder=view.suggest_elder and not elder))  # fmt: skip
        qt_app().processEvents()
        yield name, window.screens[view.state]


def visible(root: QWidget, kind: type) -> list:  # type: ignore[type-arg]
    return [w for w in root.findChildren(kind) if w.isVisible() and w.window() is root.window()]


@pytest.mark.parametrize("theme", sorted(GALLERY_THEMES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_passes_the_layout_audit(
    qtbot: QtBot, window: KioskWindow, theme: str, language: str
) -> None:
    found: dict[str, str] = {}
    for name, _page in shown(window, theme, language):
        for problem in audit(window):
            widget = problem.split(":")[0].split(" ")[0]
            found.setdefault(f"{name}: {widget}", problem)
    assert not found, found


@pytest.mark.parametrize("language", LANGUAGES)
def test_elder_theme_minimums(qtbot: QtBot, window: KioskWindow, language: str) -> None:
    for name, _page in shown(window, "elder", language):
        for widget in visible(window, QLabel) + visible(window, QAbstractButton):
            if window.sim_panel is not None and window.sim_panel.isAncestorOf(widget):
                continue
            text = widget.text() if hasattr(widget, "text") else ""
            if text:
                px = widget.font().pixelSize()
                assert px >= BODY_PX, f"{name}: {widget.objectName()} text {px} px"
                if isinstance(widget, Words) and widget.wordWrap():
                    assert LINE_HEIGHT_PERCENT >= 130, widget.objectName()
                    assert f"line-height:{LINE_HEIGHT_PERCENT}%" in QLabel.text(widget)
            if isinstance(widget, QAbstractButton):
                size = widget.size()
                assert min(size.width(), size.height()) >= TOUCH_PX, (
                    f"{name}: {widget.objectName()} is {size.width()}x{size.height()}"
                )
        titles = [w for w in visible(window, QLabel) if w.property("role") in ("title", "main")]
        assert all(w.font().pixelSize() >= MAIN_PX for w in titles), name
