"""What every self-test is made of: its context, deadline, outcome and result, the registry entry,
and ``bounded()`` for blocking calls (the runner is ``selftests.py``, the tests themselves are
``device_selftests.py``, ``network_selftest.py`` and ``storage_selftests.py``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from contracts.device_kinds import DeviceKind
from drivers.base import Device
from kiosk.technician.said import Said, english
from kiosk.technician.snapshot import brief_snapshot

if TYPE_CHECKING:
    from kiosk.technician.speech import SpeechState
    from offline.outbox import OutboxStore

T = TypeVar("T")


@dataclass(frozen=True)
class SelfTestResult:
    name: str
    passed: bool
    summary: str  # plain words, no personal data: what the technician reads
    details: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    skipped: bool = False  # nothing to test here (not configured): passed, but say so
    at: str = ""
    # The same as *summary*, as text keys: the technician's page shows it in its language.
    said: tuple[Said, ...] = ()

    @property
    def verdict(self) -> str:
        return "skip" if self.skipped else "pass" if self.passed else "fail"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": self.verdict,
            "passed": self.passed,
            "skipped": self.skipped,
            "summary": self.summary,
            "details": self.details,
            "duration": round(self.duration, 3),
            "at": self.at,
        }


@dataclass(frozen=True)
class Outcome:
    """What a self-test function returns; the runner adds the name, time and duration. Build it
    with ``passed()``, ``failed()`` or ``skip()``, which write the English summary from *said*."""

    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False
    said: tuple[Said, ...] = ()


def _outcome(
    ok: bool, parts: tuple[Said, ...], details: dict[str, Any] | None, skipped: bool
) -> Outcome:
    return Outcome(ok, english(parts), details or {}, skipped, parts)


def passed(*parts: Said, details: dict[str, Any] | None = None) -> Outcome:
    return _outcome(True, parts, details, False)


def failed(*parts: Said, details: dict[str, Any] | None = None) -> Outcome:
    return _outcome(False, parts, details, False)


def skip(*parts: Said, details: dict[str, Any] | None = None) -> Outcome:
    """Nothing to test here (not configured): passed, but said so."""
    return _outcome(True, parts, details, True)


class SelfTestTimeout(Exception):
    pass


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self, at_most: float | None = None) -> float:
        left = max(0.0, self.at - time.monotonic())
        return left if at_most is None else min(left, at_most)


def bounded(call: Callable[[], T], seconds: float, name: str) -> T:
    """*call*'s result, or SelfTestTimeout after *seconds*. For blocking calls with no timeout of
    their own (DNS) or a longer one than the test's: the call finishes on its own daemon thread."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"selftest-{name}", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    if worker.is_alive():
        raise SelfTestTimeout(f"did not finish in {seconds:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@dataclass
class SelfTestContext:
    """What the self-tests work on: the running devices, the outbox, where the platform is."""

    data_dir: Path
    devices: Mapping[DeviceKind, Device] = field(default_factory=dict)
    store: OutboxStore | None = None
    central_url: str | None = None
    kiosk_id: str = "kiosk"
    token: str | None = None
    ca_file: str | None = None  # the CA the platform's certificate must chain to ([central])
    # The platform at *central_url* is the embedded one (``kiosk.platform_link.embedded``); with
    # no url yet, the terminal meant to start it and it is not running.
    embedded: bool = False
    # The speech engine's state; None where there is none (the CLI runs no window).
    speech: Callable[[], SpeechState | None] | None = None
    # The health snapshot for the test page's QR code and the heartbeat; default: a brief one.
    snapshot: Callable[[], dict[str, Any]] | None = None

    def device(self, kind: DeviceKind) -> Device | None:
        return self.devices.get(kind)

    def health(self) -> dict[str, Any]:
        if self.snapshot is not None:
            return self.snapshot()
        return brief_snapshot(self.kiosk_id, self.devices.values(), self.store)


SelfTestFunction = Callable[[SelfTestContext, Deadline], Outcome]


@dataclass(frozen=True)
class SelfTest:
    name: str
    run: SelfTestFunction
    timeout: float
    invasive: bool = False  # uses paper or needs a card: not run unless asked for
    window_only: bool = False  # tests what only the running terminal has (its speech engine)
