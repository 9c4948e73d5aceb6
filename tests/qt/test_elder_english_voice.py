"""A visit in elder mode and English, by touch, following the voice: every step is spoken (in
English), the catalogue is paged four services at a time, nothing moves, and the resident's name
is never said aloud. Screens go to test-artifacts/elder-english/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtWidgets import QPushButton

from drivers.sim_cards import SAMPLE_CARDS
from kiosk.app import KioskApp
from kiosk.visit.session import State
from screens import theme
from tests.qt.rig import started_kiosk, tap


def english(sentence: str) -> bool:
    return not re.search(r"[\u4e00-\u9fff]", sentence)


@pytest.fixture
def kiosk(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskApp]:
    app = started_kiosk(qtbot, tmp_path / "data", "http://127.0.0.1:9", "none", "kiosk-elder")
    yield app
    app.shutdown()


def test_an_elder_visit_in_english_by_touch_and_voice(
    qtbot: QtBot, kiosk: KioskApp, artifacts: Path
) -> None:
    window, session = kiosk.window, kiosk.controller.session
    voice = window.voice
    assert voice is not None
    said: list[str] = []
    voice.spoken.connect(said.append)
    folder = artifacts / "elder-english"
    folder.mkdir(parents=True, exist_ok=True)

    def step(action: str, state: State, expect: str = "") -> str:
        """Tap *action*; wait for *state* and for English spoken for it (the speech process
        answers a moment later). Returns what was said since the tap."""
        mark = len(said)
        tap(qtbot, window, action)
        qtbot.waitUntil(lambda: session.state is state, timeout=5000)
        qtbot.waitUntil(lambda: any(english(x) and expect in x for x in said[mark:]), timeout=5000)
        window.grab().save(str(folder / f"{state.value}.png"))
        return " ".join(x for x in said[mark:] if english(x))

    step("languageButton", State.ATTRACT)  # English, on the attract screen
    text = step("startButton", State.CATALOGUE)
    assert "service" in text.lower()
    tap(qtbot, window, "elderButton")
    assert session.view().elder and session.view().language == "en"
    assert theme.current().name == "elder" and not theme.current().animate
    # Four services a page: the queue ticket is on the second.
    tile = window.findChild(QPushButton, "service_queue_ticket")
    assert tile is not None and not tile.isVisible()
    tap(qtbot, window, "catalogueMore")
    assert "card" in step("service_queue_ticket", State.IDENTIFY).lower()
    step("simPresentCard", State.CHOOSE)
    step("option_general", State.CONFIRM)
    # The number is spelt out, one character at a time.
    assert "D 0 0 1" in step("confirmButton", State.RESULT, expect="D 0 0 1")
    step("nextButton", State.RATING)
    assert "pick what went well" in step("rate5", State.RATING, expect="Submit")
    step("submitRating", State.GOODBYE)
    resident = SAMPLE_CARDS[0]
    assert all(resident.name not in s and resident.id_number not in s for s in said)
    after = said[said.index(next(s for s in said if english(s))) :]
    assert all(english(s) for s in after), [s for s in after if not english(s)]
