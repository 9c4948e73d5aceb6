"""A simulated ID card reader, shipped in the product for ``kiosk run --simulate`` and test rigs.

A tester presents one of the sample residents' cards (a button, a keyboard shortcut or a rig
script), and the reader reports it the way a real one does: found, read after a realistic delay,
removed. Faults are injected by name: ``read_failed`` (next read fails), ``unplugged``.
"""

from __future__ import annotations

import logging
import threading
import time

from drivers.base import DeviceState
from drivers.idcard import IdCard
from drivers.idcard_reader import CardEvent, CardEventKind, IdCardReader
from drivers.sim_cards import SAMPLE_CARDS

log = logging.getLogger(__name__)


class SimulatedIdCardReader(IdCardReader):
    driver = "sim"

    def __init__(self, name: str = "id_card_reader", *, read_seconds: float = 0.4) -> None:
        super().__init__(name)
        self.read_seconds = read_seconds
        self._cond = threading.Condition()
        self._card: IdCard | None = None
        self._card_read = False
        self._faults: set[str] = set()
        self._next_sample = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- tester controls (any thread) -------------------------------------------------------
    def present(self, card: IdCard | None = None) -> None:
        """Place a card on the reader: the given one, or the next sample resident's."""
        with self._cond:
            if card is None:
                card = SAMPLE_CARDS[self._next_sample % len(SAMPLE_CARDS)]
                self._next_sample += 1
            self._card, self._card_read = card, False
            self._cond.notify_all()

    def remove(self) -> None:
        with self._cond:
            had_card = self._card is not None
            self._card, self._card_read = None, False
            self._cond.notify_all()
        if had_card:
            self._emit(CardEvent(CardEventKind.REMOVED))

    def inject(self, fault: str, active: bool = True) -> None:
        with self._cond:
            (self._faults.add if active else self._faults.discard)(fault)
            self._cond.notify_all()

    @property
    def card_present(self) -> bool:
        with self._cond:
            return self._card is not None

    # -- device lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._set_state(DeviceState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._set_state(DeviceState.ABSENT)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._has_work():
                    self._cond.wait(timeout=0.5)
                if self._stopping:
                    return
                if "unplugged" in self._faults:
                    self._set_state(
                        DeviceState.ABSENT,
                        self.fault("unplugged", "device.reader_unavailable", "simulated unplug"),
                    )
                    self._cond.wait(timeout=0.2)
                    continue
                self._set_state(DeviceState.READY)
                if self._card is None or self._card_read:
                    continue
                card = self._card
            self._read(card)

    def _has_work(self) -> bool:
        if "unplugged" in self._faults:
            return True
        if self.status.state is not DeviceState.READY:
            return True
        return self._card is not None and not self._card_read

    def _read(self, card: IdCard) -> None:
        self._emit(CardEvent(CardEventKind.READING))
        self._set_state(DeviceState.BUSY)
        deadline = time.monotonic() + self.read_seconds
        with self._cond:
            # A real read takes time on the wire; a removal during it cancels the read.
            while self._card is card and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(timeout=left)
            still_there = self._card is card and not self._stopping
            failing = "read_failed" in self._faults
            self._faults.discard("read_failed")
            if still_there:
                self._card_read = True
        self._set_state(DeviceState.READY)
        if not still_there:
            return
        if failing:
            fault = self.fault("read_failed", "card.read_failed", "simulated read failure")
            self._emit(CardEvent(CardEventKind.FAILED, fault=fault))
        else:
            self._emit(CardEvent(CardEventKind.READ, card=card))
