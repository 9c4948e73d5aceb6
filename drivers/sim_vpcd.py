"""A contactless smart card in software, inserted into pcscd's virtual reader (vsmartcard's vpcd).

Shipped in the product for ``kiosk run --simulate`` and test rigs. vpcd listens on TCP (35963 for
its first reader, 35964 for its second); a card is "inserted" while it is connected. Every message
either way is a 2-byte big-endian length and a payload. A 1-byte payload from vpcd is control:
0 power off, 1 power on, 2 reset, 4 "your ATR?" (vpcd also asks this to poll for presence); any
longer payload is a command APDU, answered with data and a status word.

The card answers the PC/SC GET DATA for its UID (``FF CA 00 00 Le``, with Le checked), SELECT by
AID of one small applet (whose FCI comes through ``61xx`` and GET RESPONSE), READ RECORD 1 of
that applet (300 bytes: more than one answer holds), and ``6D00``/``6E00`` for what it does not
know. Faults are injected by name and stay until cleared, except the one-shot
``removed_mid_read``:

``no_card`` (the card stays out of the reader), ``removed_mid_read`` (the next APDU is never
answered: the card leaves half way), ``garbage`` (APDU answers are one byte of noise, no status
word), ``silence`` (APDUs are never answered; vpcd has no timeout of its own and would hold
pcscd's reader forever, so after ``mute_timeout`` the card leaves, like a reader giving up on a
mute card, and stays out until the fault is cleared), ``unplugged`` (the link to the reader is
cut and not retried; vpcd's readers are configured in pcscd and never vanish, so pcscd shows the
reader empty).
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time

from drivers.apdu import CommandApdu

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963  # vpcd's first reader, "Virtual PCD 00 00"; the second is on 35964
FAULTS = frozenset({"no_card", "removed_mid_read", "garbage", "silence", "unplugged"})
# ISO 14443-4 type A card as PC/SC part 3 presents it: T=1, no historical bytes.
DEFAULT_ATR = bytes.fromhex("3B80800101")
DEFAULT_UID = bytes.fromhex("04A1B2C3D4E5F6")
APPLET_AID = b"\xf0KIOSK\x01"  # proprietary (RID F0...): never a real card's
APPLET_LABEL = b"KIOSK TEST"
APPLET_RECORD = (b"KIOSK-TEST-RECORD-" * 17)[:300]
SSSE_NAME = "sx1.sh.社会保障".encode("gbk")  # the social-security application's DF name
SSSE_EF06 = 6  # its holder file (short id)
CONNECT_BACKOFF = (0.1, 0.2, 0.5, 1.0)

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes((tag, len(value))) + value


class VpcdFramer:
    """Splits vpcd's byte stream into payloads; encodes ours."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out = []
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < 2 + size:
                break
            out.append(bytes(self._buffer[2 : 2 + size]))
            del self._buffer[: 2 + size]
        return out

    @staticmethod
    def encode(payload: bytes) -> bytes:
        return len(payload).to_bytes(2, "big") + payload


class CardApplication:
    """What the card answers, as a pure function of the APDUs it has seen (no sockets).

    With a *holder* (social-security number, name) it is also a social-security card: the
    application ``sx1.sh.社会保障`` with the holder in EF06 (see drivers.social_security).
    """

    def __init__(self, uid: bytes = DEFAULT_UID, holder: tuple[str, str] | None = None) -> None:
        self.uid = uid
        self.holder = holder
        self._selected = False
        self._social_security = False
        self._pending = b""  # what GET RESPONSE hands out next

    def reset(self) -> None:
        self._selected, self._social_security, self._pending = False, False, b""

    def respond(self, apdu: bytes) -> bytes:
        try:
            command = CommandApdu.parse(apdu)
        except ValueError:
            self._pending = b""
            return _sw(0x6700)
        if command.ins == 0xC0 and command.cla < 0x80:
            return self._get_response(command)
        self._pending = b""
        if command.cla == 0xFF:  # PC/SC part 3 pseudo-APDUs, answered by the "reader"
            return self._reader_command(command)
        if command.cla & 0x80:
            return _sw(0x6E00)
        if command.ins == 0xA4:
            return self._select(command)
        if command.ins == 0xB2:
            return self._read_record(command)
        return _sw(0x6D00)

    def _reader_command(self, command: CommandApdu) -> bytes:
        if command.ins != 0xCA:
            return _sw(0x6D00)
        if command.p1 != 0x00:
            return _sw(0x6A81)
        if command.p2 != 0x00:
            return _sw(0x6B00)
        if command.le is None:
            return _sw(0x6700)
        if command.le < len(self.uid):  # Le 00 (256) means "all of it"
            return _sw(0x6C00 | len(self.uid))
        if command.le > len(self.uid) and command.le != 256:
            return _sw(0x6282, self.uid)
        return _sw(0x9000, self.uid)

    def _select(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x04:
            return _sw(0x6A86)
        if self.holder is not None and command.data == SSSE_NAME:
            self._social_security, self._selected = True, False
            return _sw(0x9000)
        if command.data != APPLET_AID:
            # ISO 7816-4: a failed SELECT leaves the current selection as it was (a reader
            # looking for a social-security application must not disturb another session).
            return _sw(0x6A82)
        self._social_security, self._selected = False, True
        # Like a T=0 card: the FCI waits for a GET RESPONSE.
        self._pending = _tlv(0x6F, _tlv(0x84, APPLET_AID) + _tlv(0xA5, _tlv(0x50, APPLET_LABEL)))
        return _sw(0x6100 | len(self._pending))

    def _read_record(self, command: CommandApdu) -> bytes:
        if self._social_security and self.holder is not None:
            return self._holder_record(command)
        if not self._selected:
            return _sw(0x6986)
        if (command.p1, command.p2) != (0x01, 0x04):
            return _sw(0x6A83)
        return self._hand_out(APPLET_RECORD, command.le or 256)

    def _holder_record(self, command: CommandApdu) -> bytes:
        if command.p2 != (SSSE_EF06 << 3) | 0x04:
            return _sw(0x6A82)
        number, name = self.holder or ("", "")
        if command.p1 == 1:
            return _sw(0x9000, _tlv(0x08, number.encode("ascii")))
        if command.p1 == 2:
            return _sw(0x9000, _tlv(0x09, name.encode("gbk").ljust(30, b" ")))
        return _sw(0x6A83)

    def _get_response(self, command: CommandApdu) -> bytes:
        if not self._pending:
            return _sw(0x6985)
        le = command.le or 256
        if le > len(self._pending) and le != 256:
            return _sw(0x6C00 | len(self._pending))
        return self._hand_out(self._pending, le)

    def _hand_out(self, data: bytes, le: int) -> bytes:
        chunk, self._pending = data[:le], data[le:]
        if self._pending:
            return _sw(0x6100 | (len(self._pending) & 0xFF), chunk)
        return _sw(0x9000, chunk)


class VirtualCard:
    """A card that plugs itself into vpcd at *host*:*port* while inserted (and not faulted)."""

    def __init__(
        self,
        *,
        host: str = VPCD_HOST,
        port: int = VPCD_PORT,
        uid: bytes = DEFAULT_UID,
        atr: bytes = DEFAULT_ATR,
        faults: frozenset[str] = frozenset(),
        mute_timeout: float = 2.0,
        holder: tuple[str, str] | None = None,
    ) -> None:
        unknown = set(faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown virtual card fault(s): {sorted(unknown)}")
        if not 1 <= len(uid) <= 10:
            raise ValueError("a UID has 1 to 10 bytes")
        if not 2 <= len(atr) <= 33:
            raise ValueError("an ATR has 2 to 33 bytes")
        self.host, self.port, self.atr = host, port, atr
        self.mute_timeout = mute_timeout
        self.app = CardApplication(uid, holder)
        self._faults = set(faults)
        self._inserted = False
        self._muted = False  # silence outlasted mute_timeout: stay out until it is cleared
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._connected = threading.Event()

    # -- controls (any thread) ----------------------------------------------------------------
    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """True while vpcd holds the link, that is while pcscd can see the card."""
        return self._connected.is_set()

    def insert(self) -> None:
        with self._lock:
            self._inserted, self._muted = True, False

    def remove(self) -> None:
        with self._lock:
            self._inserted = False

    def inject(self, fault: str, active: bool = True) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown virtual card fault {fault!r}")
        with self._lock:
            (self._faults.add if active else self._faults.discard)(fault)
            if fault == "silence" and not active:
                self._muted = False

    def _has(self, fault: str) -> bool:
        with self._lock:
            return fault in self._faults

    def _wanted(self) -> bool:
        with self._lock:
            return (
                self._inserted and not self._muted and not self._faults & {"no_card", "unplugged"}
            )

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> str:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
            self._thread.start()
        return self.address

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._disconnect()

    def _run(self) -> None:
        failures = 0
        framer = VpcdFramer()
        muted_since: float | None = None
        while not self._stop.is_set():
            if not self._wanted():
                self._disconnect()
                muted_since = None
                self._stop.wait(0.05)
                continue
            if self._sock is None:
                if not self._connect():
                    self._stop.wait(CONNECT_BACKOFF[min(failures, len(CONNECT_BACKOFF) - 1)])
                    failures += 1
                    continue
                failures, framer, muted_since = 0, VpcdFramer(), None
            if muted_since is not None and time.monotonic() - muted_since > self.mute_timeout:
                # The unanswered APDU can only end with the link; while silence lasts, stay out.
                log.info("virtual card: mute for %.1f s, leaving the reader", self.mute_timeout)
                with self._lock:
                    self._muted = "silence" in self._faults
                self._disconnect()
                continue
            sock = self._sock
            assert sock is not None
            try:
                readable, _, _ = select.select([sock], [], [], 0.05)
                data = sock.recv(4096) if readable else None
            except OSError:
                data = b""
            if data is None:
                continue
            if not data:  # vpcd went away (pcscd stopped): reconnect while inserted
                log.info("virtual card: vpcd closed the link")
                self._disconnect()
                self._stop.wait(CONNECT_BACKOFF[0])
                continue
            for payload in framer.feed(data):
                if self._handle(payload):
                    muted_since = muted_since or time.monotonic()

    def _connect(self) -> bool:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=1.0)
        except OSError:
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self.app.reset()
        self._connected.set()
        log.info("virtual card: inserted at %s", self.address)
        return True

    def _disconnect(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._connected.clear()
            log.info("virtual card: out of the reader")

    def _send(self, payload: bytes) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendall(VpcdFramer.encode(payload))
        except OSError:
            self._disconnect()

    def _handle(self, payload: bytes) -> bool:
        """Answer one message from vpcd; True when an APDU was left unanswered (silence)."""
        if len(payload) == 1:
            if payload[0] == CTRL_ATR:
                self._send(self.atr)
            elif payload[0] in (CTRL_OFF, CTRL_RESET):
                self.app.reset()
            return False
        with self._lock:
            removed = "removed_mid_read" in self._faults
            self._faults.discard("removed_mid_read")
            if removed:
                self._inserted = False
        if removed:
            self._disconnect()
            return False
        if self._has("silence"):
            return True
        if self._has("garbage"):
            self._send(b"\xa5")
            return False
        self._send(self.app.respond(payload))
        return False
