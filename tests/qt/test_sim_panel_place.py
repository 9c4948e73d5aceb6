"""The simulator's panel (``kiosk run --simulate``) floats over the header but never over its
buttons (elder mode, high contrast, language), on every gallery screen in every theme and
language, on a window that is the 1920x1080 screen as the terminal's is."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QAbstractButton, QWidget

from drivers.manager import DeviceManager
from kiosk.app import look_of, qt_app
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.gallery import GALLERY_THEMES, gallery_views
from kiosk.texts import LANGUAGES
from screens.main_window import KioskWindow


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskWindow]:
    qt_app()
    settings = load_settings()
    data = Path(tmp_path_factory.mktemp("sim-data"))
    devices = DeviceManager.from_config(settings.simulated().device_config(), data)
    win = KioskWindow(look_of(settings))
    win.add_pages(default_catalogue(), devices)  # devices: the simulator's panel too
    screen = qt_app().primaryScreen().geometry()
    win.setGeometry(screen)
    win.setFixedSize(screen.size())
    win.showFullScreen()
    yield win
    win.close()


def on_window(win: KioskWindow, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(win, QPoint(0, 0)), widget.size())


@pytest.mark.parametrize("theme", sorted(GALLERY_THEMES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_panel_never_covers_a_header_button(
    qtbot: QtBot, window: KioskWindow, theme: str, language: str
) -> None:
    panel = window.sim_panel
    assert panel is not None
    elder, contrast = GALLERY_THEMES[theme]
    for name, view in gallery_views(language):
        window.show_view(replace(view, elder=elder, contrast=contrast))
        qt_app().processEvents()
        place = panel.geometry()
        header = QRect(window.header.mapTo(window, QPoint(0, 0)), window.header.size())
        assert panel.isVisible() and header.contains(place), f"{name}: {place} not in {header}"
        buttons = [b for b in window.header.findChildren(QAbstractButton) if b.isVisible()]
        assert buttons, name
        for button in buttons:
            covered = on_window(window, button).intersected(place)
            assert covered.isEmpty(), (
                f"{name}: the panel {place} covers {button.objectName()} by "
                f"{covered.width()}x{covered.height()}"
            )


@pytest.mark.parametrize("theme", sorted(GALLERY_THEMES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_panel_leaves_the_clock_and_the_step_in_sight(
    qtbot: QtBot, window: KioskWindow, theme: str, language: str
) -> None:
    """The step a resident is on (第 2 步 / 共 3 步) is theirs to read even in simulation; only
    elder mode in English has too narrow a gap, and there the panel covers the clock."""
    if (theme, language) == ("elder", "en"):
        pytest.skip("the one look whose gap is narrower than the panel (see screens/sim_panel.py)")
    panel = window.sim_panel
    assert panel is not None
    elder, contrast = GALLERY_THEMES[theme]
    for name, view in gallery_views(language):
        window.show_view(replace(view, elder=elder, contrast=contrast))
        qt_app().processEvents()
        for label in ("Clock", "stepIndicator"):
            shown = window.header.findChild(QWidget, label)
            assert shown is not None
            if shown.isVisible():
                covered = panel.geometry().intersected(on_window(window, shown))
                assert covered.isEmpty(), f"{name}: the panel covers {label} by {covered}"
