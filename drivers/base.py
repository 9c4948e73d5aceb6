"""What every device shares: an explicit state, structured faults, listeners for changes, and the
counters a technician reads (operations, faults, reconnects since start, the last fault)."""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.device_kinds import DeviceKind
from runtime.supervisor import WORKERS, Supervised

log = logging.getLogger(__name__)


class DeviceState(enum.Enum):
    ABSENT = "absent"
    CONNECTING = "connecting"
    READY = "ready"
    BUSY = "busy"
    DEGRADED = "degraded"
    FAULT = "fault"


# States in which a service that needs the device can still be offered to a resident.
USABLE_STATES = frozenset({DeviceState.READY, DeviceState.BUSY, DeviceState.DEGRADED})


@dataclass(frozen=True)
class DeviceFault:
    """A fault as data: which device, a stable code, the resident's message key, the technician's
    detail. The detail never carries personal data."""

    device: str
    code: str
    message_key: str
    detail: str = ""
    # Not part of equality: the same fault seen again on a retry or a status poll is not news
    # (no new log line, no listener call), and keeps the time it first appeared.
    at: datetime = field(default_factory=lambda: datetime.now().astimezone(), compare=False)

    def as_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "message_key": self.message_key,
            "detail": self.detail,
            "at": self.at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class DeviceStatus:
    name: str
    kind: DeviceKind
    driver: str
    state: DeviceState
    fault: DeviceFault | None = None

    @property
    def usable(self) -> bool:
        return self.state in USABLE_STATES


StatusListener = Callable[[DeviceStatus], None]

# States a device leaves for READY when it comes back: a reconnect, once it has been ready before.
_DOWN_STATES = frozenset({DeviceState.ABSENT, DeviceState.FAULT, DeviceState.CONNECTING})


@dataclass
class _Counts:
    """What a device has been through since it was made, for technicians."""

    since: datetime = field(default_factory=lambda: datetime.now().astimezone())
    operations: int = 0
    faults: int = 0
    reconnects: int = 0
    been_ready: bool = False
    last_fault: DeviceFault | None = None
    fault_open: bool = False  # the last counted fault has not been followed by READY yet
    facts: dict[str, str] = field(default_factory=dict)


class Device:
    """Base for drivers: holds the state and tells listeners (on any thread) when it changes."""

    kind: DeviceKind
    driver: str = "unknown"

    def __init__(self, name: str) -> None:
        self.name = name
        self._state = DeviceState.ABSENT
        self._fault: DeviceFault | None = None
        self._listeners: list[StatusListener] = []
        self._state_lock = threading.Lock()
        self._counts = _Counts()  # guarded by _state_lock

    @property
    def status(self) -> DeviceStatus:
        with self._state_lock:
            return DeviceStatus(self.name, self.kind, self.driver, self._state, self._fault)

    def add_listener(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    @property
    def where(self) -> str | None:
        """Where the device is attached (port, address, reader name), where the driver knows."""
        return None

    def count_operation(self, n: int = 1) -> None:
        """One more unit of work done (a card read, a receipt printed, a frame captured)."""
        with self._state_lock:
            self._counts.operations += n

    def _note(self, fact: str, value: str) -> None:
        """Remember a fact about the hardware for technicians (firmware, SAM id, ATR)."""
        with self._state_lock:
            self._counts.facts[fact] = value

    def counters(self) -> dict[str, Any]:
        with self._state_lock:
            return self._counters()

    def _counters(self) -> dict[str, Any]:
        c = self._counts
        return {
            "operations": c.operations,
            "faults": c.faults,
            "reconnects": c.reconnects,
            "since": c.since.isoformat(timespec="seconds"),
        }

    @property
    def last_fault(self) -> DeviceFault | None:
        """The most recent fault, kept after the device has recovered."""
        with self._state_lock:
            return self._counts.last_fault

    def describe(self) -> dict[str, Any]:
        """Everything a technician's device page shows about this device, as plain data."""
        where = self.where  # before taking the lock: a driver may guard it with its own
        with self._state_lock:
            state, fault, last = self._state, self._fault, self._counts.last_fault
            counters, facts = self._counters(), dict(self._counts.facts)
        return {
            "name": self.name,
            "kind": self.kind.value,
            "driver": self.driver,
            "where": where,
            "state": state.value,
            "fault": fault.as_json() if fault else None,
            "last_fault": last.as_json() if last else None,
            "counters": counters,
            "facts": facts,
        }

    def _set_state(self, state: DeviceState, fault: DeviceFault | None = None) -> None:
        with self._state_lock:
            if state == self._state and fault == self._fault:
                return
            c = self._counts
            if state is DeviceState.READY:
                if c.been_ready and self._state in _DOWN_STATES:
                    c.reconnects += 1
                c.been_ready, c.fault_open = True, False
            # A retry that meets the same fault again is the same fault, not a new one.
            last = c.last_fault
            again = (
                c.fault_open and last is not None and fault is not None and last.code == fault.code
            )
            if fault is not None and not again:
                c.faults += 1
                c.last_fault, c.fault_open = fault, True
            self._state, self._fault = state, fault
        status = self.status
        extra = {"device": self.name}
        if fault is not None:
            log.warning(
                "device %s %s: %s (%s)",
                self.name,
                state.value,
                fault.code,
                fault.detail,
                extra=extra,
            )
        else:
            log.info("device %s %s", self.name, state.value, extra=extra)
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # a listener's bug must not kill a device thread
                log.exception("device listener failed for %s", self.name)

    def fault(self, code: str, message_key: str, detail: str = "") -> DeviceFault:
        return DeviceFault(self.name, code, message_key, detail)

    def _supervised(self, label: str, body: Callable[[threading.Event], None]) -> Supervised:
        """The device's background loop on a supervised thread (not started): an unexpected
        error puts the device in FAULT (``internal_error``) and the loop comes back after a
        backoff. The loop returns when the event it is given is set."""
        return WORKERS.add(Supervised(f"{self.name}-{label}", body, on_crash=self._crashed))

    def _crashed(self, exc: BaseException | None) -> None:
        detail = f"{type(exc).__name__}; restarting" if exc is not None else "loop ended"
        fault = self.fault("internal_error", "device.unavailable", detail)
        self._set_state(DeviceState.FAULT, fault)

    def start(self) -> None:
        """Open the device and start any background work. Never blocks for long."""

    def stop(self) -> None:
        """Stop background work and release the device. Safe to call twice."""
