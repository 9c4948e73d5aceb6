"""The ID card reader interface: a device that watches for cards and reports what it reads."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from contracts.device_kinds import DeviceKind
from drivers.base import Device, DeviceFault
from drivers.idcard import IdCard


class CardEventKind(enum.Enum):
    READING = "reading"  # a card was found; its record is being read
    READ = "read"  # the record was read and checked
    FAILED = "failed"  # a card is there but could not be read
    REMOVED = "removed"


@dataclass(frozen=True, repr=False)
class CardEvent:
    kind: CardEventKind
    card: IdCard | None = None
    fault: DeviceFault | None = None

    def __repr__(self) -> str:
        return f"CardEvent({self.kind.value})"


CardListener = Callable[[CardEvent], None]


class IdCardReader(Device):
    """Reports card events to listeners from its own thread; callers never block on it."""

    kind = DeviceKind.ID_CARD_READER

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._card_listeners: list[CardListener] = []

    def add_card_listener(self, listener: CardListener) -> None:
        self._card_listeners.append(listener)

    def _emit(self, event: CardEvent) -> None:
        for listener in list(self._card_listeners):
            listener(event)
