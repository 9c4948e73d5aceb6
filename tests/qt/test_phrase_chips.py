"""The feedback keyboard's phrases can be read whole before they are tapped: in every theme and
language, on a fresh window that is the screen, each phrase fits its key (on two lines where one
is too narrow), and a tap adds the phrase itself, not its line break."""

from __future__ import annotations

from dataclasses import replace

from pytestqt.qtbot import QtBot

from PySide6.QtCore import Qt

from kiosk.app import look_of, qt_app
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.gallery import GALLERY_THEMES, gallery_views
from kiosk.texts import LANGUAGES
from kiosk.visit.view import State
from screens.entry import FeedbackScreen
from screens.layout_audit import audit
from screens.main_window import KioskWindow
from screens.phrase_chip import wrapped


def test_a_phrase_breaks_where_its_lines_are_most_even() -> None:
    def width(text: str) -> int:
        return len(text)

    assert wrapped("Thank you!", width, 20) == ["Thank you!"]
    assert wrapped("Please open more staffed windows", width, 20) == [
        "Please open more",
        "staffed windows",
    ]
    assert wrapped("希望增加人工窗口", width, 6) == ["希望增加", "人工窗口"]
    assert wrapped("好！", width, 1) == ["好！"]  # a line never starts with the mark
    assert wrapped("Unbreakable", width, 4) == ["Unbreakable"]  # nothing to break at


def test_every_phrase_fits_its_key(qtbot: QtBot) -> None:
    """In every look and language, whichever came before (the keys' widths once depended on
    it: the English phrases were cut after the Chinese ones had been shown)."""
    qt_app()
    win = KioskWindow(look_of(load_settings()))
    win.add_pages(default_catalogue())
    screen = qt_app().primaryScreen().geometry()
    win.setGeometry(screen)
    win.setFixedSize(screen.size())
    win.showFullScreen()
    page = win.screens[State.FEEDBACK]
    assert isinstance(page, FeedbackScreen)
    looks = [(theme, language) for theme in sorted(GALLERY_THEMES) for language in LANGUAGES]
    try:
        cut: dict[str, list[str]] = {}
        for before, look in [(b, t) for b in looks for t in looks]:
            for theme, language in (before, look):
                elder, contrast = GALLERY_THEMES[theme]
                view = dict(gallery_views(language))["feedback"]
                win.show_view(replace(view, elder=elder, contrast=contrast))
                qt_app().processEvents()
            found = [p for p in audit(win) if "keyboardPhrase" in p]
            if found:
                cut[f"{look} after {before}"] = found
        assert not cut, cut
        for chip in page.keyboard.phrase_keys:  # the look last shown: normal, English
            assert chip.isVisible() and chip.text().count("\n") <= 1, chip.text()
            assert " ".join(chip.text().split()) == " ".join(chip.phrase.split())
        longest = max(page.keyboard.phrase_keys, key=lambda chip: chip.text().count("\n"))
        qtbot.mouseClick(longest, Qt.MouseButton.LeftButton)
        assert page.keyboard.text() == longest.phrase
    finally:
        win.close()
