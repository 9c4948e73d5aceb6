"""The speech engine's own process: ``python -m screens.voice_process --engine NAME ...``.

``screens.voice.Voice`` starts this program and talks to it through its stdin and stdout, one
JSON object per line. PySide6 keeps the GIL while QTextToSpeech waits on speech-dispatcher, so a
daemon that never answers freezes every thread of the process that called it; here that is only
this process, which the kiosk kills and starts afresh.

Commands, read on stdin::

    {"cmd": "say", "text": "...", "language": "zh_CN", "interrupt": true}
    {"cmd": "stop"}
    {"cmd": "volume", "value": 0.7}
    {"cmd": "close"}                      (end of input means the same)

Events, written on stdout::

    {"event": "opening", "engine": "speechd"}     before trying each engine
    {"event": "opened", "engine": "mock", "problems": {"speechd": "failed"}}
                                                  "" when none could start (the process then ends);
                                                  problems: why each engine before it did not
                                                  (not_installed, failed, no_library)
    {"event": "sent", "text": "...", "locale": "en_US"}   answers each say
    {"event": "state", "state": "speaking"}
    {"event": "volume", "value": 0.7}             answers each volume
    {"event": "error", "detail": "..."}           answers a say or volume that failed
    {"event": "log", "level": 30, "message": "..."}   this process's log lines

Only a QCoreApplication is needed: QTextToSpeech and its speechd and mock plugins use no
windows. The spoken text is never logged, and error details never carry it.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QLocale,
    QMessageLogContext,
    QSocketNotifier,
    QtMsgType,
    qInstallMessageHandler,
)

if TYPE_CHECKING:
    from PySide6.QtTextToSpeech import QTextToSpeech, QVoice

log = logging.getLogger(__name__)

# Test hook, honoured only here: while the file this names exists, the process freezes with
# SIGSTOP (so SIGTERM waits, as with a call stuck in libspeechd) at the stage the file names:
# "say" (also when empty) at the next say, or "open NAME" before starting engine NAME.
HANG_ENV = "KIOSK_VOICE_TEST_HANG"
# As in the kiosk's own log: Qt's warnings are platform chatter (e.g. "Couldn't load pipewire").
_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.INFO,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
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


def _why_failed(engine: str) -> str:
    """The speechd plugin loads with libspeechd alone; without the daemon itself it can only
    fail: say that it is missing, which a technician can fix, rather than that it failed."""
    if engine == "speechd" and shutil.which("speech-dispatcher") is None:
        return "not_installed"
    return "failed"


def _state_name(state: object) -> str:
    return str(getattr(state, "name", state)).lower()


class _Events:
    """Writes events to the kiosk; ends this process once nobody reads them."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, event: str, **fields: object) -> None:
        data = (json.dumps({"event": event, **fields}, ensure_ascii=False) + "\n").encode()
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:  # the kiosk is gone
            os._exit(0)


class _ForwardLogs(logging.Handler):
    def __init__(self, events: _Events) -> None:
        super().__init__(logging.INFO)
        self._events = events

    def emit(self, record: logging.LogRecord) -> None:
        self._events.send("log", level=record.levelno, message=record.getMessage())


def _forward_qt(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    logging.getLogger("qt").log(_QT_LEVELS.get(mode, logging.INFO), "qt: %s", message)


def _hang_here(stage: str) -> None:
    path = os.environ.get(HANG_ENV)
    if not path:
        return
    try:
        wanted = " ".join(Path(path).read_text().split()) or "say"
    except OSError:  # no file: no hang
        return
    if wanted == stage:
        os.kill(os.getpid(), signal.SIGSTOP)


class _Engine:
    """Owns the QTextToSpeech; everything runs on this process's only thread."""

    def __init__(
        self, candidates: Sequence[str], volume: float, events: _Events, quit: Callable[[], None]
    ) -> None:
        self._candidates = tuple(candidates)
        self._volume = volume
        self._events = events
        self._quit = quit
        self._tts: QTextToSpeech | None = None
        self._choices: dict[str, QLocale | QVoice | None] = {}
        self._closed = False

    @property
    def silent(self) -> bool:
        return self._tts is None

    def open(self) -> None:
        try:
            from PySide6.QtTextToSpeech import QTextToSpeech
        except ImportError as exc:  # e.g. libpulse0 missing: QtTextToSpeech links against it
            log.warning("speech: QtTextToSpeech cannot load (%s); the terminal stays silent", exc)
            problems = dict.fromkeys(self._candidates, "no_library")
            self._events.send("opened", engine="", problems=problems)
            return
        failures = []
        problems = {}  # why each engine did not start, for the technician (and the footer)
        for name in self._candidates:
            if name not in QTextToSpeech.availableEngines():
                failures.append(f"{name}: not installed")
                problems[name] = "not_installed"
                continue
            self._events.send("opening", engine=name)
            _hang_here(f"open {name}")
            tts = QTextToSpeech(name)
            if tts.state() == QTextToSpeech.State.Error:
                failures.append(f"{name}: {tts.errorString() or 'failed to start'}")
                problems[name] = _why_failed(name)
                shiboken6.delete(tts)
                continue
            self._tts = tts
            break
        if self._tts is None:
            log.warning("speech: no engine could start (%s); the terminal stays silent", failures)
            self._events.send("opened", engine="", problems=problems)
            return
        name = self._tts.engine()
        if failures:
            log.warning("speech: using the %s engine (%s)", name, "; ".join(failures))
        else:
            log.info("speech: using the %s engine", name)
        if name == "mock":
            log.info("speech: the mock engine makes no sound")
        self._tts.stateChanged.connect(self._on_state)
        self._tts.setVolume(self._volume)
        self._events.send("opened", engine=name, problems=problems)

    def handle(self, command: dict[str, Any]) -> None:
        """One command from the kiosk; a say or volume is always answered, if only by an error."""
        cmd = command.get("cmd")
        if self._closed:
            return
        try:
            if cmd == "say":
                self.say(str(command["text"]), str(command["language"]), command["interrupt"])
            elif cmd == "stop":
                self.stop()
            elif cmd == "volume":
                self.set_volume(float(command["value"]))
            elif cmd == "close":
                self.close()
            else:
                self._events.send("error", detail=f"unknown command {str(cmd)[:40]!r}")
        except Exception as exc:  # the kiosk waits for an answer: give it one, without the text
            self._events.send("error", detail=f"{cmd} failed: {type(exc).__name__}")

    def say(self, text: str, language: str, interrupt: object) -> None:
        if self._tts is None:
            self._events.send("error", detail="no engine")
            return
        _hang_here("say")
        if interrupt:
            self.stop()
        self._use_language(language)
        if interrupt:
            self._tts.say(text)
        else:
            self._tts.enqueue(text)  # said once the current sentence ends
        self._events.send("sent", text=text, locale=self._tts.locale().name())

    def stop(self) -> None:
        if self._tts is None:
            return
        from PySide6.QtTextToSpeech import QTextToSpeech

        if self._tts.state() != QTextToSpeech.State.Ready:
            self._tts.stop(QTextToSpeech.BoundaryHint.Immediate)

    def set_volume(self, volume: float) -> None:
        self._volume = volume
        if self._tts is None:
            self._events.send("error", detail="no engine")
            return
        self._tts.setVolume(volume)
        self._events.send("volume", value=self._tts.volume())

    def close(self) -> None:
        self._closed = True
        self.stop()
        tts, self._tts = self._tts, None
        if tts is not None:
            shiboken6.delete(tts)  # disconnects from speech-dispatcher now
        self._quit()

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
        self._events.send("state", state=_state_name(state))


class _Commands:
    """Reads the kiosk's command lines as they come, between the engine's own events."""

    def __init__(self, fd: int, engine: _Engine) -> None:
        self._fd = fd
        self._engine = engine
        self._pending = b""
        os.set_blocking(fd, False)
        self._notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._read)

    def _read(self) -> None:
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the kiosk closed its end, or died: the same as "close"
            self._notifier.setEnabled(False)
            self._engine.close()
            return
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                command = json.loads(line)
            except ValueError:
                log.warning("speech: an unreadable command was ignored")
                continue
            if isinstance(command, dict):
                self._engine.handle(command)


def _die_with_parent(parent: int) -> None:
    """Killed with the kiosk even when frozen (Linux): end of input would go unread then."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent and os.getppid() != parent:  # it died before the line above
        os._exit(0)


def _take_pipes() -> tuple[int, int]:
    """The pipes to the kiosk on private descriptors (closed on exec): a speech-dispatcher this
    process spawns must not hold them open after it is gone. Stray prints go to stderr."""
    commands, events = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return commands, events


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m screens.voice_process")
    parser.add_argument("--engine", action="append", default=[], dest="engines")
    parser.add_argument("--volume", type=float, default=0.7)
    parser.add_argument("--parent", type=int, default=0, help="the kiosk's process id")
    args = parser.parse_args(argv)
    _die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the kiosk decides when this ends
    commands_fd, events_fd = _take_pipes()
    events = _Events(events_fd)
    root = logging.getLogger()
    root.addHandler(_ForwardLogs(events))
    root.setLevel(logging.INFO)
    qInstallMessageHandler(_forward_qt)
    app = QCoreApplication.instance() or QCoreApplication([sys.argv[0]])
    engine = _Engine(args.engines, args.volume, events, app.quit)
    engine.open()
    if engine.silent:
        return 0
    commands = _Commands(commands_fd, engine)
    app.exec()
    del commands
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skips Qt's teardown at exit: the engine is already closed
