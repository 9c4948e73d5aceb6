"""Every service tile shows its icon, in every theme: line art in the look's accent colour, grey
on a greyed tile, larger in elder mode; an icon name this terminal does not know shows nothing
and breaks nothing. Read from the pixels of the tiles on the visible catalogue page."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtGui import QColor, QImage

from contracts.catalogue import Catalogue
from kiosk.app import look_of, qt_app
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.gallery import GALLERY_THEMES
from kiosk.visit.view import State, VisitView
from screens import theme
from screens.catalogue_page import CatalogueScreen, ServiceTile
from screens.layout_audit import audit
from screens.main_window import KioskWindow
from screens.service_icons import SHAPES

GREYED = {"certificate": ("device.printer_paper_out", "alternative.staff")}
CLOSE = 40  # antialiasing blends the strokes' edges: count only pixels near the colour itself
ENOUGH = 0.04  # of the icon's square: even the sparsest icon inks more than this


def full_screen_window(catalogue: Catalogue) -> KioskWindow:
    qt_app()
    win = KioskWindow(look_of(load_settings()))
    win.add_pages(catalogue)
    screen = qt_app().primaryScreen().geometry()
    win.setGeometry(screen)  # as the terminal runs: the window is the screen
    win.setFixedSize(screen.size())
    win.showFullScreen()
    return win


def inked(tile: ServiceTile, colour: QColor) -> float:
    """The share of the icon's square drawn in *colour*."""
    image = tile.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    area = tile.service_icon.geometry()
    hits = 0
    for y in range(area.top(), area.bottom() + 1):
        for x in range(area.left(), area.right() + 1):
            pixel = image.pixelColor(x, y)
            far = max(
                abs(pixel.red() - colour.red()),
                abs(pixel.green() - colour.green()),
                abs(pixel.blue() - colour.blue()),
            )
            hits += far <= CLOSE
    return hits / (area.width() * area.height())


def tiles_page_by_page(win: KioskWindow, view: VisitView) -> list[tuple[str, ServiceTile]]:
    """Every tile as the resident sees it, turning the pages elder mode has."""
    page = win.screens[State.CATALOGUE]
    assert isinstance(page, CatalogueScreen)
    seen: dict[str, ServiceTile] = {}
    found: list[tuple[str, ServiceTile]] = []
    win.show_view(view)
    for _turn in range(len(page.tiles)):
        qt_app().processEvents()
        assert not audit(win), audit(win)
        for code, tile in page.tiles.items():
            if tile.isVisible() and code not in seen:
                seen[code] = tile
                found.append((code, tile))
        if len(seen) == len(page.tiles) or not page.more.isVisible():
            break
        page.more.click()
    assert set(seen) == set(page.tiles), "some tiles were never shown"
    return found


@pytest.mark.parametrize("name", sorted(GALLERY_THEMES))
def test_every_tile_shows_its_icon(qtbot: QtBot, name: str) -> None:
    elder, contrast = GALLERY_THEMES[name]
    look = theme.look_for(elder, contrast)
    win = full_screen_window(default_catalogue())
    try:
        view = VisitView(State.CATALOGUE, "zh_CN", 1, elder=elder, contrast=contrast,
                         unavailable=GREYED)  # fmt: skip
        for code, tile in tiles_page_by_page(win, view):
            greyed = code in GREYED
            accent = QColor(look.disabled_text if greyed else look.primary)
            icon = tile.service_icon
            assert icon.known and icon.width() == icon.height() >= look.tile_name_px, code
            assert inked(tile, accent) > ENOUGH, f"{name}: {code} shows no icon"
            if greyed:  # grey, not the accent of a tile that works
                assert inked(tile, QColor(look.primary)) < ENOUGH / 4, code
            # The icon stands beside the texts, never under them.
            for label in (tile.name, tile.help, tile.reason):
                if label.isVisible():
                    assert not label.geometry().intersects(icon.geometry()), code
    finally:
        win.close()


def test_icons_are_larger_in_elder_mode(qtbot: QtBot) -> None:
    win = full_screen_window(default_catalogue())
    try:
        page = win.screens[State.CATALOGUE]
        assert isinstance(page, CatalogueScreen)
        tile = page.tiles["queue_ticket"]
        win.show_view(VisitView(State.CATALOGUE, "en", 1))
        normal = tile.service_icon.width()
        win.show_view(VisitView(State.CATALOGUE, "en", 1, elder=True))
        assert tile.service_icon.width() > normal
    finally:
        win.close()


def test_an_unknown_icon_shows_nothing(qtbot: QtBot) -> None:
    shipped = default_catalogue()
    strange = tuple(
        replace(s, icon="rocket") if s.code == "queue_ticket" else s for s in shipped.services
    )
    assert "rocket" not in SHAPES
    win = full_screen_window(replace(shipped, services=strange))
    try:
        for name in sorted(GALLERY_THEMES):
            elder, contrast = GALLERY_THEMES[name]
            look = theme.look_for(elder, contrast)
            view = VisitView(State.CATALOGUE, "en", 1, elder=elder, contrast=contrast)
            for code, tile in tiles_page_by_page(win, view):
                shown = inked(tile, QColor(look.primary))
                if code == "queue_ticket":
                    assert not tile.service_icon.known, name
                    assert shown == 0, f"{name}: drew {shown:.0%}"
                else:
                    assert shown > ENOUGH, f"{name}: {code}"
    finally:
        win.close()
