"""The speech engine as the technician sees it: starting, working, or unavailable and why; and
its self-test.

The engine belongs to the screens (``screens.voice``), which report its state here, so the
technician's pages and self-tests can say how it is without reaching into Qt. A terminal has one
speech engine, hence one report per process (``SPEECH``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from kiosk.technician.said import Said, said
from kiosk.technician.selftest_types import Deadline, Outcome, SelfTestContext, failed, passed, skip

STARTING, WORKING, UNAVAILABLE = "starting", "working", "unavailable"
# Why an engine is unavailable, as codes the translation files word (``diag.speech.<code>``):
# not_installed, failed (could not start), hung (never answered), crashed (failed again and
# again), no_library (QtTextToSpeech cannot load).
REASONS = ("not_installed", "failed", "hung", "crashed", "no_library")
# What a technician installs or restarts, rather than Qt's name for the engine.
SERVICE_NAMES = {"speechd": "speech-dispatcher"}


@dataclass(frozen=True)
class SpeechState:
    state: str = STARTING
    engine: str = ""  # the engine speaking, or the one that failed
    reason: str = ""  # why unavailable: one of REASONS

    @property
    def service(self) -> str:
        return SERVICE_NAMES.get(self.engine, self.engine)

    def why(self) -> Said:
        """Why unavailable, in plain words."""
        return said(f"diag.speech.{self.reason or 'failed'}", engine=self.service)


class SpeechReport:
    """The latest state of the speech engine: written by its owner, read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: object | None = None
        self._state: SpeechState | None = None

    def publish(self, owner: object, state: SpeechState) -> None:
        with self._lock:
            self._owner, self._state = owner, state

    def withdraw(self, owner: object) -> None:
        """*owner* ended its engine; a newer engine's report stays."""
        with self._lock:
            if self._owner is owner:
                self._owner, self._state = None, None

    def get(self) -> SpeechState | None:
        with self._lock:
            return self._state


SPEECH = SpeechReport()


def voice_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    if ctx.speech is None or (st := ctx.speech()) is None:
        return skip(said("diag.result.voice_none"))
    while st.state == STARTING and deadline.left() > 0.2:  # it opens on its own; give it time
        time.sleep(0.1)
        st = ctx.speech() or st
    details = {"state": st.state, "engine": st.engine, "reason": st.reason}
    if st.state == WORKING:
        return passed(said("diag.result.voice_ok", engine=st.service), details=details)
    if st.state == STARTING:
        return failed(said("diag.result.voice_starting"), details=details)
    return failed(said("diag.result.voice_down", why=st.why()), details=details)
