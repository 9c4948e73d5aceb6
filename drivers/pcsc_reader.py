"""Smart card readers over PC/SC (pyscard's low-level ``smartcard.scard`` API).

A monitor thread holds one PC/SC context and waits on ``SCardGetStatusChange`` with a short
timeout, so ``stop()`` is prompt. A card that arrives is connected to, its ATR and UID
(``FF CA 00 00 00``) read, and the result goes to listeners as a SmartCardEvent. pcscd not
running and no reader are states (ABSENT with a fault), never exceptions: a lost service is
recovered by releasing the context and establishing a fresh one with backoff, since a context
does not survive a pcscd restart.

The APDU layer (status words, GET RESPONSE chains) is drivers/apdu.py.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

from contracts.device_kinds import DeviceKind
from drivers.apdu import READ_FAILED_KEY, PcscError, ResponseApdu, read_uid, transmit
from drivers.base import Device, DeviceFault, DeviceState
from drivers.social_security import Holder, read_holder

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # the longest a GetStatusChange blocks: bounds how long stop() takes
READER_POLL_SECONDS = 0.5  # how often to look again for a missing reader
REOPEN_BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)

UNAVAILABLE_KEY = "device.smartcard_unavailable"


# -- PC/SC -------------------------------------------------------------------------------------
def _scard() -> ModuleType:
    try:
        from smartcard import scard
    except ImportError as exc:  # an optional hardware library: say what to install
        raise PcscError(
            "pyscard_missing",
            UNAVAILABLE_KEY,
            "pyscard is not installed (pip install pyscard; it builds with gcc and "
            "libpcsclite-dev)",
        ) from exc
    module: ModuleType = scard
    return module


def _hresult_error(scard: Any, hr: int, during: str) -> PcscError:
    """Map a PC/SC return code to a PcscError with a stable code."""
    hr &= 0xFFFFFFFF
    s = scard
    table: dict[int, tuple[str, str, bool]] = {
        s.SCARD_E_NO_SERVICE & 0xFFFFFFFF: ("service_not_running", UNAVAILABLE_KEY, True),
        s.SCARD_E_SERVICE_STOPPED & 0xFFFFFFFF: ("service_not_running", UNAVAILABLE_KEY, True),
        s.SCARD_F_COMM_ERROR & 0xFFFFFFFF: ("service_not_running", UNAVAILABLE_KEY, True),
        s.SCARD_E_NO_READERS_AVAILABLE & 0xFFFFFFFF: ("reader_missing", UNAVAILABLE_KEY, False),
        s.SCARD_E_UNKNOWN_READER & 0xFFFFFFFF: ("reader_missing", UNAVAILABLE_KEY, False),
        s.SCARD_E_READER_UNAVAILABLE & 0xFFFFFFFF: ("reader_missing", UNAVAILABLE_KEY, False),
        s.SCARD_E_NO_SMARTCARD & 0xFFFFFFFF: ("no_card", READ_FAILED_KEY, False),
        s.SCARD_W_REMOVED_CARD & 0xFFFFFFFF: ("card_removed", READ_FAILED_KEY, False),
        s.SCARD_W_UNRESPONSIVE_CARD & 0xFFFFFFFF: ("card_unresponsive", READ_FAILED_KEY, False),
        s.SCARD_W_UNPOWERED_CARD & 0xFFFFFFFF: ("card_unresponsive", READ_FAILED_KEY, False),
        s.SCARD_E_SHARING_VIOLATION & 0xFFFFFFFF: ("card_in_use", READ_FAILED_KEY, False),
        s.SCARD_E_NOT_TRANSACTED & 0xFFFFFFFF: ("transmit_failed", READ_FAILED_KEY, False),
        s.SCARD_E_PROTO_MISMATCH & 0xFFFFFFFF: ("transmit_failed", READ_FAILED_KEY, False),
        s.SCARD_W_RESET_CARD & 0xFFFFFFFF: ("transmit_failed", READ_FAILED_KEY, False),
    }
    code, key, transport = table.get(hr, ("pcsc_error", READ_FAILED_KEY, False))
    message = str(scard.SCardGetErrorMessage(hr)).rstrip(".")
    return PcscError(code, key, f"{during}: {message} (0x{hr:08X})", transport=transport)


@dataclass(frozen=True)
class ReaderState:
    reader: str
    event: int  # SCARD_STATE_* flags; pcsc-lite keeps an insert/remove count in the high word
    atr: bytes


class CardLink:
    """A shared connection to the card in one reader: the ``exchange`` primitive and helpers."""

    def __init__(self, scard: Any, context: Any, reader: str) -> None:
        self._s, self.reader = scard, reader
        hr, self._card, self._protocol = scard.SCardConnect(
            context,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hr != scard.SCARD_S_SUCCESS:
            raise _hresult_error(scard, hr, f"connect to the card in {reader!r}")

    def __enter__(self) -> CardLink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._card is not None:
            self._s.SCardDisconnect(self._card, self._s.SCARD_LEAVE_CARD)
            self._card = None

    def exchange(self, apdu: bytes) -> bytes:
        hr, response = self._s.SCardTransmit(self._card, self._protocol, list(apdu))
        if hr != self._s.SCARD_S_SUCCESS:
            raise _hresult_error(self._s, hr, "transmit")
        return bytes(response)

    def atr(self) -> bytes:
        hr, _reader, _state, _protocol, atr = self._s.SCardStatus(self._card)
        if hr != self._s.SCARD_S_SUCCESS:
            raise _hresult_error(self._s, hr, "card status")
        return bytes(atr)

    def transmit(self, apdu: bytes, *, check: bool = True) -> ResponseApdu:
        return transmit(self.exchange, apdu, check=check)

    def uid(self) -> bytes | None:
        return read_uid(self.exchange)


class PcscContext:
    """One PC/SC context (a session with pcscd), used by one thread only."""

    def __init__(self) -> None:
        self._s = _scard()
        hr, self._context = self._s.SCardEstablishContext(self._s.SCARD_SCOPE_USER)
        if hr != self._s.SCARD_S_SUCCESS:
            self._context = None
            raise _hresult_error(self._s, hr, "establish a PC/SC context")

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._context is not None:
            self._s.SCardReleaseContext(self._context)  # fails harmlessly if pcscd is gone
            self._context = None

    def readers(self) -> list[str]:
        hr, readers = self._s.SCardListReaders(self._context, [])
        if hr == self._s.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != self._s.SCARD_S_SUCCESS:
            raise _hresult_error(self._s, hr, "list readers")
        return [str(r) for r in readers]

    def wait(self, states: Sequence[tuple[str, int]], timeout: float) -> list[ReaderState] | None:
        """Block until a reader's state differs from the one given, or *timeout* (then None)."""
        hr, new = self._s.SCardGetStatusChange(
            self._context, int(timeout * 1000), [(r, st) for r, st in states]
        )
        if hr in (self._s.SCARD_E_TIMEOUT, self._s.SCARD_E_CANCELLED):
            return None
        if hr != self._s.SCARD_S_SUCCESS:
            raise _hresult_error(self._s, hr, "wait for a reader change")
        return [ReaderState(str(r), int(ev), bytes(atr)) for r, ev, atr in new]

    def connect(self, reader: str) -> CardLink:
        return CardLink(self._s, self._context, reader)

    @property
    def flags(self) -> Any:
        """The scard module, for its SCARD_STATE_* constants."""
        return self._s


def pick_reader(readers: Sequence[str], wanted: str | None) -> str | None:
    """The first reader whose name contains *wanted* (any case), or the first reader."""
    if not wanted:
        return readers[0] if readers else None
    return next((r for r in readers if wanted.casefold() in r.casefold()), None)


def _missing_detail(readers: Sequence[str], wanted: str | None) -> str:
    if not readers:
        return "no PC/SC reader connected"
    return f"no reader matching {wanted!r} (found: {', '.join(readers)})"


# -- the device ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardInfo:
    reader: str
    atr: bytes
    uid: bytes | None
    holder: Holder | None = None  # a social-security card's holder (personal: never logged)

    def as_json(self) -> dict[str, str | None]:
        return {
            "reader": self.reader,
            "atr": self.atr.hex().upper(),
            "uid": self.uid.hex().upper() if self.uid is not None else None,
        }


class SmartCardEventKind(enum.Enum):
    INSERTED = "inserted"  # a card was connected to; its ATR (and UID, when it has one) read
    REMOVED = "removed"
    FAILED = "failed"  # a card is there but could not be read


@dataclass(frozen=True)
class SmartCardEvent:
    kind: SmartCardEventKind
    reader: str
    card: CardInfo | None = None
    fault: DeviceFault | None = None


SmartCardListener = Callable[[SmartCardEvent], None]


class SmartCardReader(Device, ABC):
    """Reports card events to listeners from its own thread; callers never block on it."""

    kind = DeviceKind.SMART_CARD_READER

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._card_listeners: list[SmartCardListener] = []

    def add_card_listener(self, listener: SmartCardListener) -> None:
        self._card_listeners.append(listener)

    def _emit(self, event: SmartCardEvent) -> None:
        for listener in list(self._card_listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not kill the monitor thread
                log.exception("card listener failed for %s", self.name)

    @abstractmethod
    def transmit(self, apdu: bytes, *, check: bool = True) -> ResponseApdu:
        """Send one APDU to the card now in the reader (blocking: call from a worker)."""


class PcscReader(SmartCardReader):
    driver = "pcsc"

    def __init__(self, name: str, reader: str | None = None) -> None:
        super().__init__(name)
        self.wanted = reader
        self._worker = self._supervised("pcsc", lambda stop: self._run())
        self._stop = self._worker.stopping  # one event: a stop is never taken for a crash
        self._failures = 0
        self._reader_lock = threading.Lock()
        self._reader: str | None = None  # the reader being watched
        self._card_in = False

    @property
    def reader(self) -> str | None:
        with self._reader_lock:
            return self._reader

    @property
    def where(self) -> str | None:
        return self.reader or self.wanted

    def start(self) -> None:
        if self._worker.health.state in ("running", "restarting"):
            return
        self._card_in = False
        self._set_state(DeviceState.CONNECTING)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._worker.stop(timeout=5)
        self._set_state(DeviceState.ABSENT)

    @contextlib.contextmanager
    def session(self) -> Iterator[CardLink]:
        """A connection to the card now in the reader, on the caller's own context (PC/SC
        contexts are per thread): ``with reader.session() as card: card.transmit(...)``."""
        reader = self.reader
        if reader is None:
            raise PcscError("reader_missing", UNAVAILABLE_KEY, "no reader is connected")
        with PcscContext() as context, context.connect(reader) as link:
            yield link

    def transmit(self, apdu: bytes, *, check: bool = True) -> ResponseApdu:
        with self.session() as link:
            return link.transmit(apdu, check=check)

    # -- the monitor thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with PcscContext() as context:
                    self._watch(context)
            except PcscError as exc:
                self._lost(exc)
            except Exception as exc:  # a bug here must not leave the device looking ready
                log.exception("smart card monitor %s failed", self.name)
                self._lost(PcscError("pcsc_error", UNAVAILABLE_KEY, repr(exc)))

    def _lost(self, exc: PcscError) -> None:
        # Whatever was in the reader is out of our sight now: say so before reconnecting.
        self._card_removed(self.reader or "")
        self._use_reader(None)
        if self._stop.is_set():
            return
        self._absent(exc.code, exc.detail)
        self._stop.wait(REOPEN_BACKOFF[min(self._failures, len(REOPEN_BACKOFF) - 1)])
        self._failures += 1

    def _absent(self, code: str, detail: str) -> None:
        # The same fault seen again on a retry is not news: no new log line, no listener call.
        st = self.status
        seen = (st.fault.code, st.fault.detail) if st.fault else None
        if st.state is DeviceState.ABSENT and seen == (code, detail):
            return
        self._set_state(DeviceState.ABSENT, self.fault(code, UNAVAILABLE_KEY, detail))

    def _use_reader(self, reader: str | None) -> None:
        with self._reader_lock:
            self._reader = reader

    def _watch(self, context: PcscContext) -> None:
        s = context.flags
        current = s.SCARD_STATE_UNAWARE
        while not self._stop.is_set():
            reader = self.reader
            if reader is None:
                readers = context.readers()
                reader = pick_reader(readers, self.wanted)
                if reader is None:
                    self._absent("reader_missing", _missing_detail(readers, self.wanted))
                    self._stop.wait(READER_POLL_SECONDS)
                    continue
                self._use_reader(reader)
                self._failures = 0
                current = s.SCARD_STATE_UNAWARE
                self._set_state(DeviceState.READY)
            try:
                changes = context.wait([(reader, current)], POLL_SECONDS)
            except PcscError as exc:
                if exc.code != "reader_missing":
                    raise  # anything else: start over on a fresh context, with backoff
                changes = [ReaderState(reader, s.SCARD_STATE_UNKNOWN, b"")]
            if not changes:
                continue
            event = changes[0].event
            if event & (s.SCARD_STATE_UNKNOWN | s.SCARD_STATE_IGNORE | s.SCARD_STATE_UNAVAILABLE):
                log.info("reader %s went away", reader)
                self._use_reader(None)
                self._card_removed(reader)
                continue
            swapped = (event >> 16) != (current >> 16) and current != s.SCARD_STATE_UNAWARE
            current = event & ~s.SCARD_STATE_CHANGED
            present = bool(event & s.SCARD_STATE_PRESENT)
            if self._card_in and (not present or swapped):
                self._card_removed(reader)
            if present and not self._card_in:
                self._card_in = True
                if event & s.SCARD_STATE_MUTE:
                    self._failed(reader, PcscError("card_unresponsive", READ_FAILED_KEY, "no ATR"))
                else:
                    self._read_card(context, reader, changes[0].atr)

    def _card_removed(self, reader: str) -> None:
        if self._card_in:
            self._card_in = False
            self._emit(SmartCardEvent(SmartCardEventKind.REMOVED, reader))

    def _failed(self, reader: str, exc: PcscError) -> None:
        log.info("card read failed: %s (%s)", exc.code, exc.detail)
        fault = self.fault(exc.code, exc.message_key, exc.detail)
        self._emit(SmartCardEvent(SmartCardEventKind.FAILED, reader, fault=fault))

    def _read_card(self, context: PcscContext, reader: str, atr: bytes) -> None:
        self._set_state(DeviceState.BUSY)
        try:
            with context.connect(reader) as link:
                card = CardInfo(reader, link.atr() or atr, link.uid(), read_holder(link.exchange))
        except PcscError as exc:
            self._set_state(DeviceState.READY)
            if exc.transport:
                raise
            self._failed(reader, exc)
            return
        self._set_state(DeviceState.READY)
        self.count_operation()
        self._note("last_atr", card.atr.hex().upper())  # the card type, not the holder
        self._emit(SmartCardEvent(SmartCardEventKind.INSERTED, reader, card=card))


def read_once(reader: str | None = None, timeout: float = 10.0) -> CardInfo:
    """Wait up to *timeout* for a card in the reader named like *reader* and read its ATR and UID
    (technician CLI). Raises PcscError with a clear code when that cannot be done: the last
    card's error if a card was there but could not be read, else ``no_card``."""
    deadline = time.monotonic() + timeout
    last_error: PcscError | None = None
    with PcscContext() as context:
        s = context.flags
        known: dict[str, int] = {}
        while True:
            readers = context.readers()
            chosen = [r for r in readers if not reader or reader.casefold() in r.casefold()]
            remaining = deadline - time.monotonic()
            if not chosen:
                if remaining <= 0:
                    raise PcscError(
                        "reader_missing", UNAVAILABLE_KEY, _missing_detail(readers, reader)
                    )
                time.sleep(min(0.2, remaining))
                continue
            states = [(r, known.get(r, s.SCARD_STATE_UNAWARE)) for r in chosen]
            for state in context.wait(states, max(0.0, min(POLL_SECONDS, remaining))) or []:
                known[state.reader] = state.event & ~s.SCARD_STATE_CHANGED
                if not state.event & s.SCARD_STATE_PRESENT:
                    continue
                if state.event & s.SCARD_STATE_MUTE:
                    last_error = PcscError("card_unresponsive", READ_FAILED_KEY, "no ATR")
                    continue
                try:
                    with context.connect(state.reader) as link:
                        return CardInfo(state.reader, link.atr() or state.atr, link.uid())
                except PcscError as exc:
                    if exc.transport:
                        raise
                    # Perhaps a card on its way out: wait for the next change of that reader.
                    last_error = exc
            if time.monotonic() >= deadline:
                if last_error is not None:
                    raise last_error
                what = f"reader {reader!r}" if reader else "any reader"
                raise PcscError(
                    "no_card", READ_FAILED_KEY, f"no card in {what} within {timeout:g} s"
                )


class SimulatedPcscReader(PcscReader):
    """The real PC/SC driver watching pcscd's virtual reader, with the virtual card of
    ``drivers.sim_vpcd`` to put in it: ``kiosk run --simulate``. Without pcscd or vpcd it shows
    ABSENT with the fault that says which is missing."""

    driver = "sim"

    def __init__(
        self,
        name: str,
        reader: str = "Virtual PCD 00 00",
        *,
        host: str = "127.0.0.1",
        port: int = 35963,
        uid: bytes | None = None,
        holder: tuple[str, str] | None = None,
    ) -> None:
        from drivers.sim_cards import SAMPLE_CARDS
        from drivers.sim_vpcd import DEFAULT_UID, VirtualCard

        super().__init__(name, reader)
        # A sample resident's social-security card, unless told otherwise.
        sample = SAMPLE_CARDS[1]
        self.card = VirtualCard(host=host, port=port, uid=uid or DEFAULT_UID,
                                holder=holder or (sample.id_number, sample.name))  # fmt: skip

    def insert(self) -> None:
        self.card.insert()

    def remove(self) -> None:
        self.card.remove()

    def inject(self, fault: str, active: bool = True) -> None:
        self.card.inject(fault, active)

    def start(self) -> None:
        self.card.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        self.card.stop()
