"""Spoken guidance: a ``Voice`` that says each step aloud through QtTextToSpeech.

The engine lives on a thread of its own: speech-dispatcher's engine connects to a daemon when it is
built and answers every ``say`` over a socket, and a daemon that hangs must never freeze the
screen. The main thread only emits requests and hears back through queued signals.
The spoken text is never logged: it can carry a resident's ticket or details.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEventLoop, QLocale, QObject, Qt, Signal, Slot

if TYPE_CHECKING:
    from PySide6.QtTextToSpeech import QTextToSpeech, QVoice

    from kiosk.spoken import Speech

log = logging.getLogger(__name__)

ENGINE_ENV = "KIOSK_VOICE_ENGINE"
# speechd is the audible one on Debian (speech-dispatcher + espeak-ng); mock keeps the captions
# and tests working where it cannot start.
AUTO_ENGINES = ("speechd", "mock")
DEFAULT_VOLUME = 0.7
_START_TIMEOUT_S = 2.0
_STOP_TIMEOUT_S = 2.0
# Voices whose language Qt cannot name, found by name instead: espeak-ng's Mandarin is "cmn",
# which QLocale does not know, so speech-dispatcher's Mandarin voices sit under the C locale.
_VOICE_NAME_HINTS = {"zh_CN": ("mandarin",)}


def pick_locale(available: Sequence[QLocale], language: str) -> QLocale | None:
    """The engine's locale for *language* ("zh_CN", "en"): the same territory if it has one,
    else the same script (Simplified before Traditional for zh_CN), else the same language."""
    want = QLocale(language)
    same = [loc for loc in available if loc.language() == want.language()]
    by_territory = [loc for loc in same if loc.territory() == want.territory()]
    by_script = [loc for loc in same if loc.script() == want.script()]
    for candidates in (by_territory, by_script, same):
        if candidates:
            return candidates[0]
    return None


def pick_voice(voices: Sequence[QVoice], language: str) -> QVoice | None:
    """A voice for *language* among voices of unnamed locales, by name; espeak-ng's plain voice
    before its "+variant" copies."""
    hints = _VOICE_NAME_HINTS.get(language, ())
    named = [v for v in voices if any(hint in v.name().lower() for hint in hints)]
    named.sort(key=lambda v: "+" in v.name())
    return named[0] if named else None


def _state_name(state: object) -> str:
    return str(getattr(state, "name", state)).lower()


class _Engine(QObject):
    """Owns the QTextToSpeech; every slot runs on the speech thread."""

    opened = Signal(str)  # the engine's name, "" when silent
    sent = Signal(str, str)  # the text, and the locale the engine speaks it in
    state_changed = Signal(str)
    volume_applied = Signal(float)

    def __init__(self, candidates: Sequence[str], volume: float, loop: QEventLoop) -> None:
        super().__init__()
        self._candidates = tuple(candidates)
        self._volume = volume
        self._loop = loop
        self._tts: QTextToSpeech | None = None
        self._choices: dict[str, QLocale | QVoice | None] = {}

    def open(self) -> None:
        try:
            from PySide6.QtTextToSpeech import QTextToSpeech
        except ImportError as exc:  # e.g. libpulse0 missing: QtTextToSpeech links against it
            log.warning("speech: QtTextToSpeech cannot load (%s); the terminal stays silent", exc)
            self.opened.emit("")
            return
        failures = []
        for name in self._candidates:
            if name not in QTextToSpeech.availableEngines():
                failures.append(f"{name}: not installed")
                continue
            tts = QTextToSpeech(name)
            if tts.state() == QTextToSpeech.State.Error:
                failures.append(f"{name}: {tts.errorString() or 'failed to start'}")
                shiboken6.delete(tts)
                continue
            self._tts = tts
            break
        if self._tts is None:
            log.warning("speech: no engine could start (%s); the terminal stays silent", failures)
            self.opened.emit("")
            return
        name = self._tts.engine()
        if failures:
            log.warning("speech: using the %s engine (%s)", name, "; ".join(failures))
        else:
            log.info("speech: using the %s engine", name)
        if name == "mock":
            log.info("speech: the mock engine makes no sound")
        self._tts.stateChanged.connect(self._on_state)
        self.set_volume(self._volume)
        self.opened.emit(name)

    @Slot(str, str, bool)
    def say(self, text: str, language: str, interrupt: bool) -> None:
        if self._tts is None:
            return
        if interrupt:
            self.stop()
        self._use_language(language)
        if interrupt:
            self._tts.say(text)
        else:
            self._tts.enqueue(text)  # said once the current sentence ends
        self.sent.emit(text, self._tts.locale().name())

    @Slot()
    def stop(self) -> None:
        if self._tts is None:
            return
        from PySide6.QtTextToSpeech import QTextToSpeech

        if self._tts.state() != QTextToSpeech.State.Ready:
            self._tts.stop(QTextToSpeech.BoundaryHint.Immediate)

    @Slot(float)
    def set_volume(self, volume: float) -> None:
        self._volume = volume
        if self._tts is not None:
            self._tts.setVolume(volume)
            self.volume_applied.emit(self._tts.volume())

    @Slot()
    def close(self) -> None:
        self.stop()
        tts, self._tts = self._tts, None
        if tts is not None:
            # Now, on this thread: a deleteLater would never run once the loop has quit.
            shiboken6.delete(tts)
        self._loop.quit()

    def _use_language(self, language: str) -> None:
        tts = self._tts
        assert tts is not None
        if language not in self._choices:
            self._choices[language] = self._find(tts, language)
        wanted = self._choices[language]
        if isinstance(wanted, QLocale):
            if tts.locale() != wanted:
                tts.setLocale(wanted)
        elif wanted is not None and tts.voice() != wanted:
            tts.setVoice(wanted)

    def _find(self, tts: QTextToSpeech, language: str) -> QLocale | QVoice | None:
        """Looked up once per language: voice lists can take a while on a real engine."""
        available = tts.availableLocales()
        locale = pick_locale(available, language)
        if locale is not None:
            return locale
        before = tts.locale()
        unnamed: list[QVoice] = []
        for loc in available:
            if loc.language() == QLocale.Language.C:
                tts.setLocale(loc)
                unnamed += tts.availableVoices()
        tts.setLocale(before)
        voice = pick_voice(unnamed, language)
        if voice is None:  # a fleet-wide configuration problem, so said once, not per visit
            log.warning(
                "speech: the %s engine has no voice for %s; using %s",
                tts.engine(),
                language,
                before.name(),
            )
        return voice

    def _on_state(self, state: object) -> None:
        self.state_changed.emit(_state_name(state))


class Voice(QObject):
    """Says texts aloud, one at a time; can repeat, change volume, and be switched off."""

    spoken = Signal(str)  # each text actually handed to an engine
    state_changed = Signal(str)  # the engine's state: "speaking", "ready", "paused", "error"
    volume_applied = Signal(float)  # the volume the engine reports after a change
    engine_opened = Signal(str)  # the engine in use, "" when silent

    _say_requested = Signal(str, str, bool)
    _stop_requested = Signal()
    _volume_requested = Signal(float)
    _close_requested = Signal()

    def __init__(self, engine: str | None = None, *, volume: float = DEFAULT_VOLUME) -> None:
        super().__init__()
        chosen = engine or os.environ.get(ENGINE_ENV)
        self._candidates = (chosen,) if chosen else AUTO_ENGINES
        self._volume = _clamp(volume)
        self._enabled = True
        self._last: tuple[str, str] | None = None
        self.engine_name: str | None = None  # None until the engine thread has opened one
        self.engine_locale = ""  # the locale of the last text sent, e.g. "zh_CN"
        self._ready = threading.Event()
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="speech", daemon=True
        )
        self._thread.start()
        # Only the wiring is waited for (microseconds); the engine opens after, off this thread.
        if not self._ready.wait(_START_TIMEOUT_S):
            log.warning("speech: the speech thread did not start; the terminal stays silent")
            self._thread = None

    # -- the speech thread --------------------------------------------------------------------
    def _run(self) -> None:
        loop = QEventLoop()
        engine = _Engine(self._candidates, self._volume, loop)
        queued = Qt.ConnectionType.QueuedConnection
        self._say_requested.connect(engine.say, queued)
        self._stop_requested.connect(engine.stop, queued)
        self._volume_requested.connect(engine.set_volume, queued)
        self._close_requested.connect(engine.close, queued)
        engine.sent.connect(self._on_sent, queued)
        engine.state_changed.connect(self.state_changed, queued)
        engine.volume_applied.connect(self.volume_applied, queued)
        engine.opened.connect(self._on_opened, queued)
        self._ready.set()
        engine.open()
        loop.exec()
        for signal in (
            self._say_requested,
            self._stop_requested,
            self._volume_requested,
            self._close_requested,
        ):
            signal.disconnect()
        # Deleted here, on the thread that owns them, not later by the main thread's GC.
        shiboken6.delete(engine)
        shiboken6.delete(loop)

    # -- the main thread ----------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def last_text(self) -> str | None:
        return self._last[0] if self._last else None

    def say(
        self,
        text: str,
        language: str,
        *,
        interrupt: bool = True,
        repeat_text: str | None = None,
    ) -> None:
        """Say *text* in *language* ("zh_CN" or "en"). A new step cuts off whatever is being
        said; with ``interrupt=False`` the text waits for the current sentence to end.
        ``repeat()`` later says *repeat_text* (default: *text*). Remembered even while off, so
        "repeat" after switching on says the current step."""
        if not text.strip():
            return
        self._last = (repeat_text or text, language)
        if self._enabled and self._thread is not None:
            self._say_requested.emit(text, language, interrupt)

    def speak(self, speech: Speech) -> None:
        """Say what a ``SpeechPlanner`` planned."""
        self.say(speech.text, speech.language, interrupt=speech.interrupt, repeat_text=speech.full)

    def repeat(self) -> None:
        if self._last is not None:
            self.say(*self._last)

    def volume(self) -> float:
        return self._volume

    def set_volume(self, volume: float) -> None:
        self._volume = _clamp(volume)
        if self._thread is not None:
            self._volume_requested.emit(self._volume)

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if not enabled and self._thread is not None:
            self._stop_requested.emit()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop_requested.emit()

    def shutdown(self) -> None:
        """Stop speaking and end the speech thread; safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop_requested.emit()
        self._close_requested.emit()
        thread.join(_STOP_TIMEOUT_S)
        if thread.is_alive():
            log.warning("speech: the engine did not stop within %.0f s", _STOP_TIMEOUT_S)

    @Slot(str, str)
    def _on_sent(self, text: str, locale: str) -> None:
        self.engine_locale = locale
        self.spoken.emit(text)

    @Slot(str)
    def _on_opened(self, name: str) -> None:
        self.engine_name = name
        self.engine_opened.emit(name)


def _clamp(volume: float) -> float:
    return min(1.0, max(0.0, float(volume)))
