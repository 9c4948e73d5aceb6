"""A silent terminal shows it: when the speech engine cannot start, the footer says so in words
instead of offering voice buttons that do nothing (saved under test-artifacts/voice-unavailable/).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from drivers.sam_reader import SimulatedSamReader
from kiosk.app import KioskApp
from kiosk.config.settings import Settings, load_settings
from kiosk.visit.session import State
from screens import voice as voice_module
from screens.voice import ENGINE_ENV
from tests.qt.test_diagnostics_mode import english, make_kiosk
from tests.qt.test_visit import Shots

VOICE_BUTTONS = ("voiceRepeat", "voiceVolume", "voiceToggle")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


def shown(window: QWidget) -> list[str]:
    """The texts a resident can see: visible labels and buttons."""
    widgets = window.findChildren(QLabel) + window.findChildren(QPushButton)
    return [w.text() for w in widgets if w.isVisible() and w.text()]


def in_a_visit(qtbot: QtBot, kiosk: KioskApp) -> None:
    reader = kiosk.devices.id_card_reader
    assert isinstance(reader, SimulatedSamReader)
    reader.present()
    qtbot.waitUntil(lambda: kiosk.controller.session.state is State.CATALOGUE, timeout=5000)


def voice_buttons_shown(window: QWidget) -> list[str]:
    return [n for n in VOICE_BUTTONS if window.findChild(QPushButton, n).isVisible()]


def settled(qtbot: QtBot, kiosk: KioskApp) -> None:
    voice = kiosk.window.voice
    assert voice is not None
    qtbot.waitUntil(lambda: voice.engine_name is not None, timeout=5000)


@pytest.fixture
def engine_missing(
    qtbot: QtBot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KioskApp]:
    monkeypatch.setenv(ENGINE_ENV, "no-such-engine")
    app = make_kiosk(qtbot, settings)
    yield app
    app.shutdown()


def test_without_a_speech_engine_the_footer_says_the_voice_is_unavailable(
    qtbot: QtBot, engine_missing: KioskApp, artifacts: Path
) -> None:
    window = engine_missing.window
    shot = Shots(artifacts / "voice-unavailable", window)
    settled(qtbot, engine_missing)
    in_a_visit(qtbot, engine_missing)
    qtbot.waitUntil(lambda: "语音播报暂不可用" in shown(window), timeout=3000)
    assert voice_buttons_shown(window) == []
    assert "再说一遍" not in shown(window)
    shot("catalogue-zh")
    english(qtbot, window)
    assert "Voice unavailable" in shown(window) and "Say it again" not in shown(window)
    shot("catalogue-en")


def test_falling_back_to_the_mock_engine_is_silence_and_says_so(
    qtbot: QtBot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audible engine missing, the terminal would fall back to Qt's mock engine, which keeps
    captions going but makes no sound: the resident is told there is no voice."""
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.setattr(voice_module, "AUTO_ENGINES", ("no-such-engine", "mock"))
    kiosk = make_kiosk(qtbot, settings)
    try:
        settled(qtbot, kiosk)
        assert kiosk.window.voice is not None and kiosk.window.voice.engine_name == "mock"
        in_a_visit(qtbot, kiosk)
        qtbot.waitUntil(lambda: "语音播报暂不可用" in shown(kiosk.window), timeout=3000)
        assert voice_buttons_shown(kiosk.window) == []
    finally:
        kiosk.shutdown()


def test_a_working_engine_keeps_its_buttons(qtbot: QtBot, settings: Settings) -> None:
    kiosk = make_kiosk(qtbot, settings)  # the tests' engine, chosen by name: it counts as working
    try:
        settled(qtbot, kiosk)
        in_a_visit(qtbot, kiosk)
        assert voice_buttons_shown(kiosk.window) == list(VOICE_BUTTONS)
        assert "语音播报暂不可用" not in shown(kiosk.window)
    finally:
        kiosk.shutdown()
