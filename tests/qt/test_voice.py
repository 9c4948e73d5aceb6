"""Spoken guidance on Qt's mock speech engine: say, interrupt, repeat, volume, off, languages,
the degraded silent mode, an engine process that hangs or dies, and the resident's three buttons
(saved under test-artifacts/voice/)."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.texts import Texts
from kiosk.visit.session import State, VisitView
from kiosk.visit.spoken import SpeechPlanner
from screens import theme
from screens import voice as voice_module
from screens.voice import ENGINE_ENV, Voice, pick_locale, pick_voice
from screens.voice_controls import VOLUME_LEVELS, VoiceControls
from screens.voice_process import HANG_ENV

# Texts these tests lean on; the translation files (kiosk/locales/*.ts) win where they have them.
PROPOSED = {
    "zh_CN": {
        "voice.repeat": "再说一遍",
        "voice.volume": "音量",
        "voice.volume_level": "音量 {level}",
        "voice.on": "语音：开",
        "voice.off": "语音：关",
    },
    "en": {
        "voice.repeat": "Say it again",
        "voice.volume": "Volume",
        "voice.volume_level": "Volume {level}",
        "voice.on": "Voice: on",
        "voice.off": "Voice: off",
    },
}
LONG = "Please lay your ID card flat on the reader below the screen and wait a moment"


def translator(language: str):  # type: ignore[no-untyped-def]
    texts = Texts(language)
    return lambda key: texts(key) or PROPOSED[language].get(key, "")


def engine_processes() -> dict[int, str]:
    """This process's engine children, and any zombie child, by pid: their state letter."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and (b"screens.voice_process" in cmdline or state == "Z"):
            found[int(entry.name)] = state
    return found


@pytest.fixture(autouse=True)
def no_engine_left() -> Iterator[None]:
    """Every test ends with its engine processes ended and reaped: none running, no zombie."""
    yield
    assert engine_processes() == {}


def the_engine_process() -> int:
    found = engine_processes()
    assert len(found) == 1, found
    return next(iter(found))


def open_voice(qtbot: QtBot, engine: str | None = "mock") -> Voice:
    voice = Voice(engine)
    qtbot.waitUntil(lambda: voice.engine_name is not None, timeout=5000)
    return voice


@pytest.fixture
def voice(qtbot: QtBot) -> Iterator[Voice]:
    v = open_voice(qtbot)
    assert v.engine_name == "mock"
    yield v
    v.shutdown()


class States:
    def __init__(self, voice: Voice) -> None:
        self.seen: list[str] = []
        voice.state_changed.connect(self.seen.append)


def test_say_hands_the_text_to_the_engine_which_speaks_then_is_ready(
    qtbot: QtBot, voice: Voice
) -> None:
    states = States(voice)
    with qtbot.waitSignal(voice.spoken, timeout=3000) as spoken:
        voice.say("Please place your ID card", "en")
    assert spoken.args == ["Please place your ID card"]
    assert voice.last_text == "Please place your ID card"
    qtbot.waitUntil(lambda: states.seen[-1:] == ["ready"], timeout=5000)
    assert states.seen == ["speaking", "ready"]


def test_a_new_text_cuts_off_the_old_one(qtbot: QtBot, voice: Voice) -> None:
    states = States(voice)
    spoken: list[str] = []
    voice.spoken.connect(spoken.append)
    voice.say(LONG, "en")
    qtbot.waitUntil(lambda: states.seen == ["speaking"], timeout=3000)
    started = time.monotonic()
    voice.say("Please choose a service", "en")
    qtbot.waitUntil(lambda: len(states.seen) == 4, timeout=5000)
    # The mock says a word every 100 ms: the long sentence was stopped, not finished.
    assert states.seen == ["speaking", "ready", "speaking", "ready"]
    assert time.monotonic() - started < 1.0
    assert spoken == [LONG, "Please choose a service"]


def test_news_on_the_same_step_waits_for_the_sentence_in_progress(
    qtbot: QtBot, voice: Voice
) -> None:
    states = States(voice)
    voice.say("Please place your ID card", "en")
    with qtbot.waitSignal(voice.spoken, timeout=3000):
        voice.say("The card could not be read", "en", interrupt=False, repeat_text="all of it")
    qtbot.waitUntil(lambda: states.seen[-1:] == ["ready"], timeout=5000)
    assert states.seen == ["speaking", "ready"]  # one run: queued, never stopped
    assert voice.last_text == "all of it"


def test_repeat_says_the_last_text_again(qtbot: QtBot, voice: Voice) -> None:
    voice.say("Please choose a service", "en")
    with qtbot.waitSignal(voice.spoken, timeout=3000) as again:
        voice.repeat()
    assert again.args == ["Please choose a service"]


def test_a_planned_speech_is_said_and_repeat_says_the_whole_step(
    qtbot: QtBot, voice: Voice
) -> None:
    planner, t = SpeechPlanner(), Texts("en")
    first = planner.plan(VisitView(State.IDENTIFY, "en", 1), t)
    notice = planner.plan(VisitView(State.IDENTIFY, "en", 1, notice_key="card.read_failed"), t)
    assert first is not None and notice is not None
    heard: list[str] = []
    voice.spoken.connect(heard.append)
    voice.speak(first)
    voice.speak(notice)
    qtbot.waitUntil(lambda: len(heard) == 2, timeout=3000)
    assert heard[1] == "The card could not be read. Lay it flat and wait a moment."
    assert voice.last_text == notice.full


def test_volume_reaches_the_engine_and_is_kept_in_range(qtbot: QtBot, voice: Voice) -> None:
    with qtbot.waitSignal(voice.volume_applied, timeout=3000) as applied:
        voice.set_volume(0.3)
    assert applied.args == [pytest.approx(0.3)]
    assert voice.volume() == pytest.approx(0.3)
    with qtbot.waitSignal(voice.volume_applied, timeout=3000) as applied:
        voice.set_volume(1.7)
    assert applied.args == [pytest.approx(1.0)] and voice.volume() == 1.0


def test_off_stops_at_once_and_stays_silent_until_on(qtbot: QtBot, voice: Voice) -> None:
    states = States(voice)
    voice.say(LONG, "en")
    qtbot.waitUntil(lambda: states.seen == ["speaking"], timeout=3000)
    voice.set_enabled(False)
    assert not voice.enabled
    qtbot.waitUntil(lambda: states.seen == ["speaking", "ready"], timeout=1000)
    with qtbot.assertNotEmitted(voice.spoken, wait=400):
        voice.say("Please choose a service", "en")
        voice.repeat()
    assert voice.last_text == "Please choose a service"  # the step moved on while silent
    voice.set_enabled(True)
    with qtbot.waitSignal(voice.spoken, timeout=3000) as heard:
        voice.repeat()
    assert heard.args == ["Please choose a service"]


def test_english_picks_an_english_voice(qtbot: QtBot, voice: Voice) -> None:
    with qtbot.waitSignal(voice.spoken, timeout=3000):
        voice.say("Please choose a service", "en")
    assert QLocale(voice.engine_locale).language() == QLocale.Language.English


def test_chinese_without_a_chinese_voice_still_speaks_and_says_so_once(
    qtbot: QtBot, voice: Voice, caplog: pytest.LogCaptureFixture
) -> None:
    """The mock engine has English, Norwegian and Finnish voices only."""
    caplog.set_level(logging.INFO, logger="screens.voice")
    for text in ("请放置您的身份证", "请选择要办理的业务"):
        with qtbot.waitSignal(voice.spoken, timeout=3000):
            voice.say(text, "zh_CN")
    missing = [r for r in caplog.records if "no voice for zh_CN" in r.getMessage()]
    assert len(missing) == 1
    assert "身份证" not in caplog.text and "业务" not in caplog.text  # never the spoken words


@pytest.mark.parametrize(
    ("available", "language", "expected"),
    [
        (["en_GB", "zh_TW", "zh_CN"], "zh_CN", "zh_CN"),
        (["zh_TW", "zh_SG"], "zh_CN", "zh_SG"),  # Simplified characters before the territory
        (["yue_HK", "zh_TW"], "zh_CN", "zh_TW"),  # Mandarin before Cantonese
        (["en_GB", "en_US", "fi_FI"], "en", "en_US"),
        (["fi_FI", "en_GB"], "en", "en_GB"),
        (["en_GB", "fi_FI"], "zh_CN", None),
    ],
)
def test_the_closest_locale_is_chosen(
    available: list[str], language: str, expected: str | None
) -> None:
    found = pick_locale([QLocale(name) for name in available], language)
    assert (found.name() if found else None) == expected


class NamedVoice:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


def test_mandarin_is_found_by_name_where_qt_cannot_name_its_language() -> None:
    """speech-dispatcher lists espeak-ng's Mandarin ("cmn") under the C locale."""
    names = [
        "Chinese (Mandarin, latin as English)+Adam",
        "Chinese (Cantonese)",
        "Chinese (Mandarin, latin as English)",
        "Klingon",
    ]
    voices = [NamedVoice(n) for n in names]
    found = pick_voice(voices, "zh_CN")  # type: ignore[arg-type]
    assert found is not None and found.name() == "Chinese (Mandarin, latin as English)"
    assert pick_voice(voices, "en") is None  # type: ignore[arg-type]
    assert pick_voice([NamedVoice("Klingon")], "zh_CN") is None  # type: ignore[list-item]


@pytest.mark.parametrize(
    "breakage",
    ["unknown engine", "environment", "no QtTextToSpeech"],
)
def test_without_any_engine_it_is_silent_and_says_so_once(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    breakage: str,
) -> None:
    caplog.set_level(logging.INFO, logger="screens.voice")
    engine: str | None = None
    if breakage == "unknown engine":
        engine = "nosuch"
    elif breakage == "environment":
        monkeypatch.setenv(ENGINE_ENV, "nosuch")
    else:  # e.g. libpulse0 missing: the module's import fails (in the engine's process)
        engine_process_runs(tmp_path, monkeypatch, 'sys.modules["PySide6.QtTextToSpeech"] = None')
    voice = open_voice(qtbot, engine)
    try:
        assert voice.engine_name == ""
        with qtbot.assertNotEmitted(voice.spoken, wait=300):
            voice.say("Please place your ID card", "en")
            voice.set_volume(0.2)
            voice.repeat()
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "silent" in warnings[0].getMessage()
        qtbot.waitUntil(lambda: engine_processes() == {}, timeout=3000)  # it ended by itself
    finally:
        voice.shutdown()


def test_by_default_a_real_engine_is_tried_before_the_mock(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Given the first engine cannot start, the mock is used and the log says why. (A stand-in
    for speechd: the real one would start a speech-dispatcher daemon that outlives the test.)"""
    assert voice_module.AUTO_ENGINES == ("speechd", "mock")
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.setattr(voice_module, "AUTO_ENGINES", ("nosuch", "mock"))
    caplog.set_level(logging.INFO, logger="screens.voice")
    voice = open_voice(qtbot, None)
    try:
        assert voice.engine_name == "mock"
        assert "using the mock engine (nosuch: not installed)" in caplog.text
    finally:
        voice.shutdown()


def test_a_slow_engine_never_holds_up_the_screen(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Given an engine process that takes a second to start (speech-dispatcher starting up),
    building the voice and asking it to speak return at once; the speech follows."""
    engine_process_runs(tmp_path, monkeypatch, "time.sleep(1.0)")
    started = time.monotonic()
    voice = Voice("mock")
    try:
        voice.say("Please place your ID card", "en")
        assert time.monotonic() - started < 0.3
        with qtbot.waitSignal(voice.spoken, timeout=5000) as heard:
            pass
        assert heard.args == ["Please place your ID card"]
    finally:
        voice.shutdown()


def engine_process_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Engine processes started from now on run *code* first (a sitecustomize on their path)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"import sys, time\n{code}\n")
    monkeypatch.setenv("PYTHONPATH", str(site))


# ---- an engine process that hangs or dies ----------------------------------------------------
@pytest.fixture
def quick_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watchdog's limits shortened, to keep these tests short."""
    monkeypatch.setattr(voice_module, "_ACK_TIMEOUT_S", 0.5)
    monkeypatch.setattr(voice_module, "_OPEN_TIMEOUT_S", 1.0)
    monkeypatch.setattr(voice_module, "_BACKOFF_S", (0.1,))


@pytest.fixture
def hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """While this file exists, an engine process freezes at its next say (SIGSTOP: it ignores
    SIGTERM too, like one stuck in libspeechd holding the GIL)."""
    flag = tmp_path / "hang"
    flag.write_text("say")
    monkeypatch.setenv(HANG_ENV, str(flag))
    return flag


def frozen(pid: int) -> bool:
    return engine_processes().get(pid) == "T"


def test_a_hung_engine_never_holds_up_the_screen_and_is_replaced(
    qtbot: QtBot, quick_watchdog: None, hang: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="screens.voice")
    voice = open_voice(qtbot)
    try:
        first = the_engine_process()
        opened: list[str] = []
        heard: list[str] = []
        voice.engine_opened.connect(opened.append)
        applied: list[float] = []
        voice.spoken.connect(heard.append)
        voice.volume_applied.connect(applied.append)
        voice.say("请放置您的身份证", "zh_CN")
        qtbot.waitUntil(lambda: frozen(first), timeout=3000)
        hang.unlink()  # the next engine process will answer
        # Each call only queues: the screen goes on; older steps make way for newer ones.
        slowest = 0.0
        for step in range(20):
            started = time.monotonic()
            voice.say(f"Step {step}", "en")
            voice.set_volume(0.5)
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 0.05
        # Killed (SIGTERM is not enough), reaped, and replaced; only the newest step is said.
        qtbot.waitUntil(lambda: opened == ["mock"], timeout=5000)
        qtbot.waitUntil(lambda: heard == ["Step 19"], timeout=3000)
        assert first not in engine_processes()  # gone, not a zombie
        assert the_engine_process() != first
        qtbot.waitUntil(lambda: applied[-1:] == [pytest.approx(0.5)], timeout=3000)
        with qtbot.waitSignal(voice.spoken, timeout=3000) as again:
            voice.repeat()
        assert again.args == ["Step 19"]
    finally:
        voice.shutdown()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "did not answer" in caplog.text and "身份证" not in caplog.text


def test_an_engine_that_keeps_hanging_is_given_up_with_one_warning(
    qtbot: QtBot, quick_watchdog: None, hang: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="screens.voice")
    voice = open_voice(qtbot)
    try:
        for attempt in range(voice_module._MAX_FAILURES):
            with qtbot.waitSignal(voice.engine_opened, timeout=5000) as opened:
                voice.say(f"请放置您的身份证 {attempt}", "zh_CN")
        assert opened.args == [""] and voice.engine_name == ""  # silent now
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "stays silent" in warnings[0].getMessage()
        assert "身份证" not in caplog.text
        assert engine_processes() == {}  # none left running, none restarted
        with qtbot.assertNotEmitted(voice.spoken, wait=300):
            voice.say("Please place your ID card", "en")
            voice.repeat()
    finally:
        voice.shutdown()


def test_shutdown_returns_at_once_with_a_hung_engine(
    qtbot: QtBot, hang: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voice_module, "_ACK_TIMEOUT_S", 60.0)  # the watchdog has not noticed yet
    voice = open_voice(qtbot)
    pid = the_engine_process()
    voice.say("Please place your ID card", "en")
    qtbot.waitUntil(lambda: frozen(pid), timeout=3000)
    started = time.monotonic()
    voice.shutdown()
    assert time.monotonic() - started < 2.0
    assert engine_processes() == {}
    voice.shutdown()  # twice is fine


def test_an_engine_process_that_dies_is_replaced(qtbot: QtBot, quick_watchdog: None) -> None:
    voice = open_voice(qtbot)
    try:
        first = the_engine_process()
        with qtbot.waitSignal(voice.engine_opened, timeout=5000) as opened:
            os.kill(first, signal.SIGKILL)
        assert opened.args == ["mock"]
        assert first not in engine_processes()
        with qtbot.waitSignal(voice.spoken, timeout=3000) as heard:
            voice.say("Please place your ID card", "en")
        assert heard.args == ["Please place your ID card"]
    finally:
        voice.shutdown()


def test_an_engine_that_hangs_as_it_starts_makes_way_for_the_next(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    quick_watchdog: None,
    hang: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """speech-dispatcher that never answers hangs QTextToSpeech("speechd") itself: after the
    start-up limit the mock is used. (Frozen before the real engine is built: no daemon.)"""
    from PySide6.QtTextToSpeech import QTextToSpeech

    if "speechd" not in QTextToSpeech.availableEngines():
        pytest.skip("no speechd plugin")
    hang.write_text("open speechd")
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    caplog.set_level(logging.INFO, logger="screens.voice")
    started = time.monotonic()
    voice = Voice()
    try:
        assert time.monotonic() - started < 0.3
        qtbot.waitUntil(lambda: voice.engine_name is not None, timeout=5000)
        assert voice.engine_name == "mock"
        assert "the speechd engine did not start within 1 s; trying mock" in caplog.text
        with qtbot.waitSignal(voice.spoken, timeout=3000):
            voice.say("Please place your ID card", "en")
    finally:
        voice.shutdown()


def test_building_and_shutting_down_a_voice_is_quick(qtbot: QtBot) -> None:
    """The app builds one per start, and the tests build many apps."""
    started = time.monotonic()
    Voice("mock").shutdown()  # before its process has even opened the engine
    assert time.monotonic() - started < 1.0  # typically 5 ms
    voice = open_voice(qtbot)
    started = time.monotonic()
    voice.shutdown()  # an open engine is closed, not killed
    assert time.monotonic() - started < 1.0  # typically 5 ms


# ---- the resident's buttons ------------------------------------------------------------------
@pytest.fixture
def controls(qtbot: QtBot, voice: Voice) -> Iterator[VoiceControls]:
    panel = QWidget()  # the window's background and style sheet, as in the header
    panel.setObjectName("KioskRoot")
    panel.setStyleSheet(theme.style_sheet())
    widget = VoiceControls(voice, translator("zh_CN"))
    QVBoxLayout(panel).addWidget(widget)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    yield widget
    panel.close()


def tap(qtbot: QtBot, controls: VoiceControls, name: str) -> None:
    btn = controls.findChild(QWidget, name)
    assert btn is not None and btn.isVisible() and btn.isEnabled(), f"{name} cannot be tapped"
    qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)


def test_the_buttons_are_large_enough_for_a_finger(controls: VoiceControls) -> None:
    for name in ("voiceRepeat", "voiceVolume", "voiceToggle"):
        btn = controls.findChild(QWidget, name)
        assert btn is not None
        assert btn.width() >= 60 and btn.height() >= 60, f"{name} is {btn.size()}"


def test_repeat_button_says_it_again(qtbot: QtBot, controls: VoiceControls) -> None:
    controls.voice.say("请选择要办理的业务", "zh_CN")
    with qtbot.waitSignal(controls.voice.spoken, timeout=3000) as heard:
        tap(qtbot, controls, "voiceRepeat")
    assert heard.args == ["请选择要办理的业务"]


def test_volume_button_cycles_three_levels_and_lets_you_hear_each(
    qtbot: QtBot, controls: VoiceControls
) -> None:
    voice = controls.voice
    voice.say("请选择要办理的业务", "zh_CN")
    assert controls.level() == 2 and controls.volume.text() == "音量 ●●○"
    seen = []
    for _ in range(3):
        with qtbot.waitSignal(voice.spoken, timeout=3000):
            tap(qtbot, controls, "voiceVolume")
        seen.append((voice.volume(), controls.volume.text()))
    assert seen == [
        (VOLUME_LEVELS[2], "音量 ●●●"),
        (VOLUME_LEVELS[0], "音量 ●○○"),
        (VOLUME_LEVELS[1], "音量 ●●○"),
    ]


def test_toggle_button_switches_off_and_on(qtbot: QtBot, controls: VoiceControls) -> None:
    voice = controls.voice
    with qtbot.waitSignal(voice.spoken, timeout=3000):
        voice.say("请选择要办理的业务", "zh_CN")
    assert controls.toggle.text() == "语音：开" and controls.toggle.isChecked()
    with qtbot.assertNotEmitted(voice.spoken, wait=300):
        tap(qtbot, controls, "voiceToggle")
    assert not voice.enabled and controls.toggle.text() == "语音：关"
    assert not controls.repeat.isEnabled()
    with qtbot.waitSignal(voice.spoken, timeout=3000) as heard:  # on again: the current step
        tap(qtbot, controls, "voiceToggle")
    assert voice.enabled and heard.args == ["请选择要办理的业务"]


def test_controls_render_in_both_languages(
    qtbot: QtBot, controls: VoiceControls, artifacts: Path
) -> None:
    folder = artifacts / "voice"
    folder.mkdir(parents=True, exist_ok=True)
    panel = controls.parentWidget()
    assert panel is not None
    for language in ("zh_CN", "en"):
        controls.retranslate(translator(language))
        for on in (True, False):
            controls.voice.set_enabled(on)
            controls.refresh()
            qtbot.wait(10)  # let the layout take the new labels' sizes before measuring
            panel.adjustSize()
            for btn in (controls.repeat, controls.volume, controls.toggle):
                assert btn.width() >= btn.sizeHint().width(), f"{btn.text()!r} is clipped"
            path = folder / f"controls-{language}-{'on' if on else 'off'}.png"
            assert panel.grab().save(str(path))
    assert controls.repeat.text() == "Say it again"


def test_the_speech_writer_comes_back_after_an_unexpected_error(
    qtbot: QtBot, voice: Voice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error nobody planned for in the writer thread: the supervisor logs it, counts it,
    runs the writer again, and the terminal goes on speaking."""
    real = Voice._can_write
    calls: list[int] = []

    def fails_once(self: Voice) -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug in the writer")
        return real(self)

    monkeypatch.setattr(Voice, "_can_write", fails_once)
    writer = voice._threads[0]
    writer._base = 0.05
    heard: list[str] = []
    voice.spoken.connect(heard.append)
    voice.say("第一句", "zh_CN")
    qtbot.waitUntil(lambda: writer.health.restarts == 1, timeout=5000)
    assert writer.health.fault == "crashed:RuntimeError"
    voice.say("第二句", "zh_CN")
    qtbot.waitUntil(lambda: "第二句" in heard, timeout=5000)
