"""What every device shares: an explicit state, structured faults, and listeners for changes."""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

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


class DeviceKind(enum.Enum):
    ID_CARD_READER = "id_card_reader"
    RECEIPT_PRINTER = "receipt_printer"
    CAMERA = "camera"
    SMART_CARD_READER = "smart_card_reader"


@dataclass(frozen=True)
class DeviceFault:
    """A fault as data: which device, a stable code, the resident's message key, the technician's
    detail. The detail never carries personal data."""

    device: str
    code: str
    message_key: str
    detail: str = ""
    at: datetime = field(default_factory=lambda: datetime.now().astimezone())


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

    @property
    def status(self) -> DeviceStatus:
        with self._state_lock:
            return DeviceStatus(self.name, self.kind, self.driver, self._state, self._fault)

    def add_listener(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def _set_state(self, state: DeviceState, fault: DeviceFault | None = None) -> None:
        with self._state_lock:
            if state == self._state and fault == self._fault:
                return
            self._state, self._fault = state, fault
        status = self.status
        if fault is not None:
            log.warning("device %s %s: %s (%s)", self.name, state.value, fault.code, fault.detail)
        else:
            log.info("device %s %s", self.name, state.value)
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # a listener's bug must not kill a device thread
                log.exception("device listener failed for %s", self.name)

    def fault(self, code: str, message_key: str, detail: str = "") -> DeviceFault:
        return DeviceFault(self.name, code, message_key, detail)

    def start(self) -> None:
        """Open the device and start any background work. Never blocks for long."""

    def stop(self) -> None:
        """Stop background work and release the device. Safe to call twice."""
