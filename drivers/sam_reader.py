"""Resident ID card readers over the SAM serial protocol (pyserial: a port, a pty or socket://).

A polling thread asks "is there a card?" a few times a second; a new card is selected and read,
and its record checked, and the result goes to listeners as a CardEvent. A transport failure
closes the port and reopens it with backoff, so a reader unplugged and plugged back in recovers
on its own.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from drivers.base import DeviceState
from drivers.idcard import IdCard
from drivers.idcard_reader import CardEvent, CardEventKind, IdCardReader
from drivers.sam_protocol import (
    ANSWER_MIN_PAYLOAD,
    BAUD_PARAMS,
    SET_BAUD,
    Command,
    Frame,
    FrameDecoder,
    encode_command,
    status_of,
)
from drivers.sam_record import RecordError, decode_card, split_read_answer
from drivers.serial_errors import serial_errors

log = logging.getLogger(__name__)

REOPEN_BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)
READ_ATTEMPTS = 3  # per card placement, a second apart


class SamError(Exception):
    """A command did not succeed. ``transport`` errors mean the port itself is unusable."""

    def __init__(self, code: str, message_key: str, detail: str, *, transport: bool = False):
        super().__init__(f"{code}: {detail}")
        self.code, self.message_key, self.detail, self.transport = (
            code,
            message_key,
            detail,
            transport,
        )


class SamLink:
    """One open port and the request/answer exchange over it; blocking, every call timed out."""

    def __init__(self, port: str, baud: int, *, open_timeout: float = 2.0) -> None:
        import serial  # optional at import time: only needed when a SAM reader is configured

        self._serial_errors = serial_errors()
        self.port, self.baud = port, baud
        try:
            self._ser: Any = serial.serial_for_url(
                port, baudrate=baud, timeout=0.02, write_timeout=open_timeout
            )
        except self._serial_errors as exc:
            raise SamError(
                "open_failed", "device.reader_unavailable", str(exc), transport=True
            ) from exc
        # An answer holds SW1 SW2 SW3 at least: a shorter one is a bad frame, never a Frame whose
        # sw3 would raise IndexError deep in the reader's loop.
        self._decoder = FrameDecoder(min_payload=ANSWER_MIN_PAYLOAD)

    def close(self) -> None:
        # pyserial's socket:// close() skips closing the socket when shutdown() fails, which it
        # does once the peer has gone; close it ourselves so no descriptor leaks per reconnect.
        sock = getattr(self._ser, "_socket", None)
        if sock is not None:
            sock.close()
        with contextlib.suppress(*self._serial_errors):
            self._ser.close()

    def transact(self, command: Command | tuple[int, int], timeout: float = 1.0) -> Frame:
        """Send one command and return its answer frame (any SW3); raise SamError otherwise."""
        self._decoder.reset()
        try:
            self._ser.reset_input_buffer()
            self._ser.write(encode_command(command))
            deadline = time.monotonic() + timeout
            errors = []
            received = 0
            while time.monotonic() < deadline:
                chunk = self._ser.read(max(1, self._ser.in_waiting))
                received += len(chunk)
                for item in self._decoder.feed(chunk):
                    if isinstance(item, Frame):
                        return item
                    errors.append(item.code)
        except self._serial_errors as exc:
            raise SamError(
                "io_error", "device.reader_unavailable", str(exc), transport=True
            ) from exc
        if "checksum" in errors or "length" in errors:
            raise SamError("bad_frame", "card.read_failed", f"corrupt answer ({errors[0]})")
        if received:  # an answer began and stopped: the card was taken away mid-read
            raise SamError("incomplete", "card.read_failed", f"answer cut off after {received} B")
        raise SamError("timeout", "device.reader_unavailable", f"no answer in {timeout:.1f} s")

    def check(self, command: Command, timeout: float = 1.0, ok: int = 0x90) -> Frame:
        frame = self.transact(command, timeout)
        if frame.sw3 != ok:
            status = status_of(frame.sw3)
            raise SamError(status.code, status.message_key or "card.read_failed", status.code)
        return frame

    def read_card(self, read_timeout: float = 3.0) -> IdCard:
        """Select and read the card that "find" reported; the record is checked."""
        self.check(Command.SELECT_CARD)
        frame = self.check(Command.READ_TEXT_PHOTO, timeout=read_timeout)
        try:
            return decode_card(*split_read_answer(frame.data))
        except RecordError as exc:
            raise SamError(exc.code, "card.invalid", str(exc)) from exc

    def card_present(self) -> bool:
        frame = self.transact(Command.FIND_CARD)
        if frame.sw3 == 0x9F:
            return True
        if frame.sw3 == 0x80:
            return False
        status = status_of(frame.sw3)
        raise SamError(status.code, status.message_key or "card.read_failed", status.code)

    def set_baud(self, baud: int) -> None:
        """Switch the reader and this port to *baud* (9600 ... 115200)."""
        if baud not in BAUD_PARAMS:
            raise ValueError(f"unsupported baud rate {baud}; use one of {sorted(BAUD_PARAMS)}")
        self.check(Command.SAM_STATUS)
        frame = self.transact((SET_BAUD, BAUD_PARAMS[baud]))
        if frame.sw3 != 0x90:
            raise SamError("set_baud_refused", "device.reader_unavailable", f"SW3 {frame.sw3:02x}")
        self._ser.baudrate = baud
        self.baud = baud


def read_once(port: str, baud: int = 115200, timeout: float = 10.0) -> IdCard:
    """Wait up to *timeout* for a card on the reader at *port* and read it (technician CLI)."""
    link = SamLink(port, baud)
    try:
        link.check(Command.SAM_STATUS)
        deadline = time.monotonic() + timeout
        while not link.card_present():
            if time.monotonic() > deadline:
                raise SamError("no_card", "card.read_failed", f"no card within {timeout:.0f} s")
            time.sleep(0.2)
        return link.read_card()
    finally:
        link.close()


class SamSerialReader(IdCardReader):
    driver = "sam-serial"

    def __init__(
        self, name: str, port: str, *, baud: int = 115200, poll_seconds: float = 0.25
    ) -> None:
        super().__init__(name)
        self.port, self.baud, self.poll_seconds = port, baud, poll_seconds
        self._worker = self._supervised("sam", lambda stop: self._run())
        self._stop = self._worker.stopping  # one event: a stop is never taken for a crash

    @property
    def where(self) -> str:
        return self.port

    def start(self) -> None:
        if self._worker.health.state in ("running", "restarting"):
            return
        self._set_state(DeviceState.CONNECTING)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._worker.stop(timeout=5)
        self._set_state(DeviceState.ABSENT)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                link = SamLink(self.port, self.baud)
            except SamError as exc:
                self._backoff(exc, failures)
                failures += 1
                continue
            try:
                link.check(Command.SAM_STATUS)
                self._note_sam_id(link)
                failures = 0
                self._set_state(DeviceState.READY)
                self._poll(link)
            except SamError as exc:
                self._backoff(exc, failures)
                failures += 1
            finally:
                link.close()

    def _note_sam_id(self, link: SamLink) -> None:
        """The SAM module's id, for the technician's device page; not every reader answers."""
        try:
            frame = link.transact(Command.SAM_ID, timeout=0.5)
        except SamError as exc:
            if exc.transport:
                raise
            return
        if frame.sw3 == 0x90 and frame.data:
            self._note("sam_id", frame.data.hex())

    def _backoff(self, exc: SamError, failures: int) -> None:
        state = DeviceState.ABSENT if exc.code == "open_failed" else DeviceState.FAULT
        self._set_state(state, self.fault(exc.code, "device.reader_unavailable", exc.detail))
        self._stop.wait(REOPEN_BACKOFF[min(failures, len(REOPEN_BACKOFF) - 1)])
        if not self._stop.is_set():
            self._set_state(DeviceState.CONNECTING)

    def _poll(self, link: SamLink) -> None:
        present, attempts = False, 0
        while not self._stop.wait(self.poll_seconds):
            now_present = link.card_present()  # a SamError here means the reader is gone
            if now_present and not present and attempts < READ_ATTEMPTS:
                attempts += 1
                if self._read(link):
                    present = True
                else:
                    self._stop.wait(1.0)
            elif not now_present:
                if present or attempts:
                    self._emit(CardEvent(CardEventKind.REMOVED))
                present, attempts = False, 0

    def _read(self, link: SamLink) -> bool:
        self._emit(CardEvent(CardEventKind.READING))
        self._set_state(DeviceState.BUSY)
        try:
            card = link.read_card()
        except SamError as exc:
            self._set_state(DeviceState.READY)
            if exc.transport:
                raise
            fault = self.fault(exc.code, exc.message_key, exc.detail)
            log.info("card read failed: %s", exc.code)
            self._emit(CardEvent(CardEventKind.FAILED, fault=fault))
            return False
        self._set_state(DeviceState.READY)
        self.count_operation()
        self._emit(CardEvent(CardEventKind.READ, card=card))
        return True


class SimulatedSamReader(SamSerialReader):
    """The real SAM driver talking to the SAM simulator over a pty: ``kiosk run --simulate``."""

    driver = "sim"

    def __init__(
        self, name: str, link: Path, *, baud: int = 115200, faults: frozenset[str] = frozenset()
    ) -> None:
        from drivers.sim_sam import SamSimulator

        super().__init__(name, str(link), baud=baud)
        self.simulator = SamSimulator(link, baud=baud, faults=faults)

    def present(self, card: IdCard | None = None) -> None:
        self.simulator.present(card)

    def remove(self) -> None:
        self.simulator.remove()

    def inject(self, fault: str, active: bool = True) -> None:
        self.simulator.inject(fault, active)

    def start(self) -> None:
        self.simulator.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        self.simulator.stop()
