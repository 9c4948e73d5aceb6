"""Spoken guidance: a ``Voice`` that says each step aloud through QtTextToSpeech.

The engine runs in a process of its own (``screens.voice_process``): PySide6 keeps the GIL
while libspeechd waits for speech-dispatcher, so a daemon that hangs would freeze every thread of
the process calling it, the screen included. Here the main thread only queues commands and hears
back through queued signals; three threads do the rest:

- the writer sends the queued commands one answer at a time; while the child lags they wait in
  a short queue where older ``say``s make way for newer ones;
- a reader per child turns its events into this object's signals, delivered on the main thread;
- the watchdog starts the child, kills it (SIGTERM, then SIGKILL) when it stops answering or
  dies, and starts a new one after a pause; after repeated failures the terminal stays silent.

Whether the terminal can speak (``availability``: starting, working, or unavailable and why) is
learnt from the child's answers, never by waiting on the main thread; it goes to the footer
(``availability_changed``) and to the technician (``kiosk.technician.speech.SPEECH``).

The spoken text is never logged: it can carry a resident's ticket or details.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kiosk.technician.speech import SPEECH, UNAVAILABLE, WORKING, SpeechReport, SpeechState
from runtime.supervisor import WORKERS, Supervised
from screens.voice_process import pick_locale, pick_voice

if TYPE_CHECKING:
    from kiosk.visit.spoken import Speech

__all__ = ["AUTO_ENGINES", "DEFAULT_VOLUME", "ENGINE_ENV", "Voice", "pick_locale", "pick_voice"]

log = logging.getLogger(__name__)

ENGINE_ENV = "KIOSK_VOICE_ENGINE"
# speechd is the audible one on Debian (speech-dispatcher + espeak-ng); mock keeps the captions
# and tests working where it cannot start.
AUTO_ENGINES = ("speechd", "mock")
# Engines that make no sound: chosen by name (tests, rigs) they count as working; reached by
# falling back from an audible one, the terminal is silent and says so.
SILENT_ENGINES = frozenset({"mock"})
DEFAULT_VOLUME = 0.7
CHILD_MODULE = "screens.voice_process"
_QUEUE_LIMIT = 8  # commands waiting for the child; beyond, the oldest say is dropped
_OPEN_TIMEOUT_S = 10.0  # to start an engine (speech-dispatcher may have to be spawned)
_ACK_TIMEOUT_S = 5.0  # for a say or volume to be answered
_BACKOFF_S = (0.5, 2.0)  # before each new child, by failures in a row
_MAX_FAILURES = 3  # in a row, before staying silent
_HEALTHY_S = 60.0  # a child that worked this long before failing starts a new count
_CLOSE_TIMEOUT_S = 0.5  # for an answering child to end after "close"
_TERM_TIMEOUT_S = 0.3  # after SIGTERM, before SIGKILL
_REAP_TIMEOUT_S = 0.5  # after SIGKILL
_SHUTDOWN_TIMEOUT_S = 2.0
_POLL_S = 0.05
_ANSWERED = ("say", "volume")  # commands the child answers, watched for a reply


class _Child:
    """One engine process. Its fields are read and written under ``Voice._cond``, except the
    pipes: stdin belongs to the writer (and is closed by the watchdog), stdout to the reader."""

    def __init__(self, proc: subprocess.Popen[bytes], candidates: tuple[str, ...]) -> None:
        self.proc = proc
        self.candidates = candidates
        self.started = time.monotonic()
        self.opening = ""  # the engine it is starting
        self.engine: str | None = None  # once opened; "" when it found none
        self.opened_at = 0.0
        self.outstanding = 0  # commands written and not yet answered
        self.progress_at = self.started  # when it last answered, or was first owed an answer
        self.dead = False  # given up on: nothing more is written to it
        self.abandoned = False  # killed (and reaped if it could be): the reader may stop
        self._write_lock = threading.Lock()
        self._stdin_open = True
        assert proc.stdin is not None and proc.stdout is not None
        os.set_blocking(proc.stdin.fileno(), False)

    @property
    def usable(self) -> bool:
        return bool(self.engine) and not self.dead

    def write(self, data: bytes) -> bool:
        """Waits for room in the pipe, but gives up as soon as the child is given up on."""
        with self._write_lock:
            stdin = self.proc.stdin
            if not self._stdin_open or stdin is None:
                return False
            fd = stdin.fileno()
            room = select.poll()
            room.register(fd, select.POLLOUT)
            view = memoryview(data)
            while view:
                if self.dead:
                    return False
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    room.poll(_POLL_S * 1000)
                except OSError:  # a broken pipe: the child is gone
                    return False
            return True

    def close_stdin(self) -> None:
        """End of input: the child closes its engine and ends."""
        with self._write_lock:
            if self._stdin_open and self.proc.stdin is not None:
                self._stdin_open = False
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()


def _until_stopped(loop: Callable[[], None]) -> Callable[[threading.Event], None]:
    """A loop that may end on purpose, as a supervised body: once it returns, wait for the stop
    rather than be taken for a crash."""

    def body(stop: threading.Event) -> None:
        loop()
        stop.wait()

    return body


class Voice(QObject):
    """Says texts aloud, one at a time; can repeat, change volume, and be switched off."""

    spoken = Signal(str)  # each text actually handed to an engine
    state_changed = Signal(str)  # the engine's state: "speaking", "ready", "paused", "error"
    volume_applied = Signal(float)  # the volume the engine reports after a change
    engine_opened = Signal(str)  # the engine in use, "" when silent
    availability_changed = Signal(object)  # a SpeechState: can the resident hear the terminal?

    _event = Signal(str, object)  # from the reader and watchdog threads to the main thread

    def __init__(
        self,
        engine: str | None = None,
        *,
        volume: float = DEFAULT_VOLUME,
        report: SpeechReport = SPEECH,
    ) -> None:
        super().__init__()
        chosen = engine or os.environ.get(ENGINE_ENV)
        self._candidates = (chosen,) if chosen else tuple(AUTO_ENGINES)
        self._report = report
        self._availability = SpeechState()
        report.publish(self, self._availability)
        self._volume = _clamp(volume)
        self._enabled = True
        self._last: tuple[str, str] | None = None
        self.engine_name: str | None = None  # None until a child has opened an engine
        self.engine_locale = ""  # the locale of the last text sent, e.g. "zh_CN"
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        # Shared with the threads, under _cond:
        self._cond = threading.Condition()
        self._queue: deque[dict[str, Any]] = deque()
        self._child: _Child | None = None
        self._closing = False
        self._silent = False  # no engine, or given up: commands are dropped
        self._troubles: dict[str, str] = {}  # engine -> why it did not start or went away
        self._unreaped: list[subprocess.Popen[bytes]] = []
        # The child starts on the watchdog thread: nothing here waits for it. Both threads are
        # supervised: an unexpected error is logged and the loop runs again; a loop that ends on
        # purpose (closing, or the watchdog giving up on a dead engine) stays ended.
        self._threads: tuple[Supervised, ...] = (
            WORKERS.add(Supervised("speech-writer", _until_stopped(self._write_loop))),
            WORKERS.add(Supervised("speech-watchdog", _until_stopped(self._watch_loop))),
        )
        for worker in self._threads:
            worker.start()

    # -- the main thread ----------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def availability(self) -> SpeechState:
        return self._availability

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
        if self._enabled:
            self._send({"cmd": "say", "text": text, "language": language, "interrupt": interrupt})

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
        self._send({"cmd": "volume", "value": self._volume})

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if not enabled:
            self._send({"cmd": "stop"})

    def stop(self) -> None:
        self._send({"cmd": "stop"})

    def shutdown(self) -> None:
        """Stop speaking and end the engine's process and the threads; safe to call twice.
        Returns within about two seconds even when the child is frozen."""
        threads, self._threads = self._threads, ()
        if not threads:
            return
        self._report.withdraw(self)
        deadline = time.monotonic() + _SHUTDOWN_TIMEOUT_S
        for worker in threads:
            worker.stopping.set()  # before the loops see _closing: an end, not a crash
        with self._cond:
            self._closing = True
            self._queue.clear()
            self._cond.notify_all()
        for worker in threads:
            worker.stop(max(0.0, deadline - time.monotonic()))

    def _send(self, command: dict[str, Any]) -> None:
        """Queues *command* for the writer; never waits for the child."""
        with self._cond:
            if self._closing or self._silent:
                return
            queue = self._queue
            if command["cmd"] == "volume":  # only the last one matters
                self._queue = queue = deque(c for c in queue if c["cmd"] != "volume")
            elif command["cmd"] == "stop" and queue and queue[-1]["cmd"] == "stop":
                return
            queue.append(command)
            while len(queue) > _QUEUE_LIMIT:  # the child lags: the oldest say goes
                oldest_say = next((c for c in queue if c["cmd"] == "say"), queue[0])
                queue.remove(oldest_say)
            self._cond.notify_all()

    @Slot(str, object)
    def _on_event(self, kind: str, data: Any) -> None:
        if kind == "opened":
            engine, troubles = data
            self.engine_name = engine
            self.engine_opened.emit(engine)
            state = self._judge(engine, troubles)
            if state != self._availability:
                self._availability = state
                self._report.publish(self, state)
                self.availability_changed.emit(state)
        elif kind == "sent":
            text, self.engine_locale = data
            self.spoken.emit(text)
        elif kind == "state":
            self.state_changed.emit(data)
        elif kind == "volume":
            self.volume_applied.emit(data)

    def _judge(self, engine: str, troubles: dict[str, str]) -> SpeechState:
        if engine and (engine not in SILENT_ENGINES or len(self._candidates) == 1):
            return SpeechState(WORKING, engine)
        for name in self._candidates:  # the first engine that should have spoken, and why not
            if name in troubles:
                return SpeechState(UNAVAILABLE, name, troubles[name])
        return SpeechState(UNAVAILABLE, self._candidates[0], "failed")

    # -- the writer thread --------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closing and not self._can_write():
                    self._cond.wait()
                child = self._child
                if self._closing:
                    usable = child is not None and child.usable
                    break
                assert child is not None
                command = self._queue.popleft()
                if command["cmd"] in _ANSWERED:
                    if not child.outstanding:
                        child.progress_at = time.monotonic()
                    child.outstanding += 1
            child.write(_encode(command))
        if child is not None:
            if usable:
                child.write(_encode({"cmd": "close"}))
            child.close_stdin()

    def _can_write(self) -> bool:
        """One answered command in flight at a time: while the child owes an answer, commands
        wait here, where a newer say can still replace an old one (call under _cond)."""
        child = self._child
        return bool(self._queue) and child is not None and child.usable and not child.outstanding

    # -- a reader thread, one per child -------------------------------------------------------
    def _read_loop(self, child: _Child) -> None:
        stdout = child.proc.stdout
        assert stdout is not None
        fd = stdout.fileno()
        news = select.poll()
        news.register(fd, select.POLLIN)
        pending = b""
        try:
            while True:
                if not news.poll(_POLL_S * 1000):
                    if child.abandoned:  # killed; whatever still holds the pipe is not it
                        break
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._take(child, line)
        except OSError:
            pass
        finally:
            stdout.close()

    def _take(self, child: _Child, line: bytes) -> None:
        try:
            message = json.loads(line)
            event = message["event"]
        except (ValueError, TypeError, KeyError):
            log.warning("speech: the engine wrote an unreadable line")
            return
        if event == "log":  # the child's own log lines, under this module's name
            level = message.get("level")
            log.log(level if isinstance(level, int) else logging.INFO, "%s", message.get("message"))
            return
        with self._cond:
            if child.dead:
                return
            child.progress_at = time.monotonic()
            if event in ("sent", "volume", "error") and child.outstanding:
                child.outstanding -= 1
                self._cond.notify_all()
            if event == "opening":
                child.opening = str(message.get("engine", ""))
            elif event == "opened":
                child.engine = str(message.get("engine", ""))
                child.opened_at = child.progress_at
                problems = message.get("problems")
                if isinstance(problems, dict):
                    self._troubles.update({str(k): str(v) for k, v in problems.items()})
                troubles = dict(self._troubles)
                self._cond.notify_all()
        if event == "opened":
            self._event.emit("opened", (child.engine, troubles))
        elif event == "sent":
            self._event.emit("sent", (message.get("text", ""), message.get("locale", "")))
        elif event == "state":
            self._event.emit("state", str(message.get("state", "")))
        elif event == "volume":
            self._event.emit("volume", float(message.get("value", 0.0)))
        elif event == "error":
            log.warning("speech: the engine reports %s", message.get("detail", "an error"))

    # -- the watchdog thread ------------------------------------------------------------------
    def _watch_loop(self) -> None:
        candidates = self._candidates
        failures = 0
        while True:
            try:
                child = self._spawn(candidates)
            except OSError as exc:
                child, reason = None, f"could not be started ({exc.strerror or exc})"
                self._trouble(candidates[0], "failed")
            else:
                if child is None:  # shutting down
                    return
                reason = self._supervise(child, restarted=failures > 0)
                if reason == "closing":
                    return
                if reason == "silent":  # it found no engine and said so: nothing to retry
                    self._go_silent(announce=False)
                    return
                if child.opened_at and time.monotonic() - child.opened_at > _HEALTHY_S:
                    failures = 0
                if reason.startswith("did not start") and child.opening in candidates[:-1]:
                    # This engine hangs as it starts (a daemon that never answers): the next.
                    self._trouble(child.opening, "hung")
                    candidates = candidates[candidates.index(child.opening) + 1 :]
                    log.warning(
                        "speech: the %s engine %s; trying %s",
                        child.opening,
                        reason,
                        ", ".join(candidates),
                    )
                    failures = 0
                    continue
            failures += 1
            if failures >= _MAX_FAILURES:
                if child is not None:  # never answering: "hung"; dying again and again: "crashed"
                    why = "hung" if reason.startswith("did not") else "crashed"
                    self._trouble(child.engine or child.opening or candidates[0], why)
                log.warning(
                    "speech: the engine failed %d times in a row (last: it %s); "
                    "the terminal stays silent",
                    failures,
                    reason,
                )
                self._go_silent(announce=True)
                return
            log.info("speech: the engine %s; starting a new one", reason)
            with self._cond:
                deadline = time.monotonic() + _BACKOFF_S[min(failures, len(_BACKOFF_S)) - 1]
                while not self._closing and time.monotonic() < deadline:
                    self._cond.wait(deadline - time.monotonic())
                if self._closing:
                    return

    def _supervise(self, child: _Child, *, restarted: bool) -> str:
        """Runs *child* until it must go, ends it, and says why: "closing", "silent" (it found no
        engine), or what went wrong."""
        reader = threading.Thread(
            target=self._read_loop, args=(child,), name="speech-reader", daemon=True
        )
        reader.start()
        with self._cond:
            self._child = child
            if restarted:
                self._keep_newest_say()
            self._cond.notify_all()
        reason = self._watch(child)
        if reason == "exited":
            reader.join(_REAP_TIMEOUT_S)  # its last words, e.g. that it found no engine
            code = child.proc.poll()
            reason = "silent" if child.engine == "" else f"ended (exit status {code})"
        self._end(child, graceful=reason == "closing" and bool(child.engine))
        reader.join(_REAP_TIMEOUT_S)
        return reason

    def _trouble(self, engine: str, why: str) -> None:
        with self._cond:
            self._troubles[engine] = why

    def _go_silent(self, *, announce: bool) -> None:
        with self._cond:
            self._silent = True
            self._queue.clear()
            troubles = dict(self._troubles)
        if announce:
            self._event.emit("opened", ("", troubles))
        with self._cond:
            while not self._closing:
                self._cond.wait()

    def _spawn(self, candidates: tuple[str, ...]) -> _Child | None:
        with self._cond:
            if self._closing:
                return None
        self._reap_leftovers()
        argv = [sys.executable, "-m", CHILD_MODULE, "--volume", repr(self._volume)]
        argv += ["--parent", str(os.getpid())]
        for name in candidates:
            argv += ["--engine", name]
        # The package this module came from, first: the child must run the same code.
        root = str(Path(__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, path] if path else [root])}
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # a Ctrl-C on the terminal is the kiosk's to handle
        )
        return _Child(proc, candidates)

    def _watch(self, child: _Child) -> str:
        """Until the child must go: why ("closing", "exited", or how it stopped answering)."""
        with self._cond:
            while True:
                if self._closing:
                    return "closing"
                if child.proc.poll() is not None:
                    return "exited"
                now = time.monotonic()
                if child.engine is None and now - child.started > _OPEN_TIMEOUT_S:
                    return f"did not start within {_OPEN_TIMEOUT_S:.0f} s"
                if child.outstanding and now - child.progress_at > _ACK_TIMEOUT_S:
                    return f"did not answer within {_ACK_TIMEOUT_S:.0f} s"
                self._cond.wait(0.1)

    def _end(self, child: _Child, *, graceful: bool) -> None:
        """Ends and reaps the child: "close" first when it answers, then SIGTERM, then SIGKILL."""
        proc = child.proc
        if graceful:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(_CLOSE_TIMEOUT_S)
        with self._cond:
            child.dead = True
            self._cond.notify_all()
        for send, timeout in ((proc.terminate, _TERM_TIMEOUT_S), (proc.kill, _REAP_TIMEOUT_S)):
            if proc.poll() is not None:
                break
            try:
                send()
                proc.wait(timeout)
            except (subprocess.TimeoutExpired, OSError):
                pass
        if proc.poll() is None:  # stuck in the kernel: reaped later, or by the next spawn
            log.warning("speech: the engine process %d would not end", proc.pid)
            self._unreaped.append(proc)
        child.close_stdin()
        child.abandoned = True

    def _reap_leftovers(self) -> None:
        self._unreaped = [proc for proc in self._unreaped if proc.poll() is None]

    def _keep_newest_say(self) -> None:
        """After a restart, only the newest say is worth saying (call under _cond)."""
        says = [c for c in self._queue if c["cmd"] == "say"]
        for stale in says[:-1]:
            self._queue.remove(stale)


def _encode(command: dict[str, Any]) -> bytes:
    return (json.dumps(command, ensure_ascii=False) + "\n").encode()


def _clamp(volume: float) -> float:
    return min(1.0, max(0.0, float(volume)))
