"""A resident ID card reader in software, speaking the SAM protocol over a real pty or TCP port.

Shipped in the product for ``kiosk run --simulate`` and test rigs. Answers are paced at the
configured baud rate (10 bits a byte for 8N1), so timing through the driver is realistic. Faults
are injected by name and stay until cleared, except the one-shot ``read_failed``:

``no_card`` (find always says no card), ``read_failed`` (next read answers 41),
``removed_mid_read`` (next read stops half way and the card is gone), ``bad_checksum`` (answers
carry a wrong CHK), ``silence`` (no answers), ``garbage`` (noise before each answer),
``unplugged`` (the port disappears; clearing it brings a new one up at the same link path).
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from pathlib import Path

from drivers.idcard import IdCard
from drivers.pty_link import close_linked_pty, open_linked_pty
from drivers.sam_protocol import (
    BAUD_PARAMS,
    SET_BAUD,
    Command,
    Frame,
    FrameDecoder,
    encode_response,
)
from drivers.sam_record import encode_read_answer, encode_text
from drivers.sim_cards import SAMPLE_CARDS, sample_photo

log = logging.getLogger(__name__)

FAULTS = frozenset(
    {
        "no_card",
        "read_failed",
        "removed_mid_read",
        "bad_checksum",
        "silence",
        "garbage",
        "unplugged",
    }
)
_BAUD_BY_PARAM = {v: k for k, v in BAUD_PARAMS.items()}


class _PtyEndpoint:
    """A pty whose slave is reachable at a stable symlink; unplugging removes both."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self._master = -1
        self._slave = -1

    @property
    def address(self) -> str:
        return str(self.link)

    @property
    def is_open(self) -> bool:
        return self._master >= 0

    def open(self) -> None:
        self._master, self._slave = open_linked_pty(self.link)

    def close(self) -> None:
        close_linked_pty(self.link, self._master, self._slave)
        self._master = self._slave = -1

    def poll(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self._master, 4096)
        except OSError:
            return b""

    def write(self, data: bytes) -> bool:
        if self._master < 0:
            return False
        try:
            os.write(self._master, data)
        except OSError:
            return False
        return True


class _TcpEndpoint:
    """A TCP port (pyserial's ``socket://host:port``) serving one client at a time, like a
    serial-to-Ethernet adapter; unplugging closes the port, plugging back reopens the same one."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None

    @property
    def address(self) -> str:
        return f"socket://{self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._listener is not None

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(1)
        self.port = listener.getsockname()[1]  # port 0 picks one; keep it across replugs
        self._listener = listener

    def close(self) -> None:
        for sock in (self._client, self._listener):
            if sock is not None:
                sock.close()
        self._client = self._listener = None

    def poll(self, timeout: float) -> bytes:
        assert self._listener is not None
        watch = [self._listener] + ([self._client] if self._client else [])
        ready, _, _ = select.select(watch, [], [], timeout)
        if self._listener in ready:
            client, _ = self._listener.accept()
            if self._client is not None:  # a new connection replaces a stale one
                self._client.close()
            self._client = client
        if self._client is None or self._client not in ready:
            return b""
        try:
            data = self._client.recv(4096)
        except OSError:
            data = b""
        if not data:  # the driver hung up
            self._client.close()
            self._client = None
        return data

    def write(self, data: bytes) -> bool:
        if self._client is None:
            return False
        try:
            self._client.sendall(data)
        except OSError:
            return False
        return True


class SamSimulator:
    """Serves one SAM reader on a pty whose slave is reachable at *link* (a stable symlink), or,
    with *tcp* = (host, port), on a TCP port for pyserial's ``socket://`` URLs."""

    def __init__(
        self,
        link: Path | None = None,
        *,
        tcp: tuple[str, int] | None = None,
        baud: int = 115200,
        faults: frozenset[str] = frozenset(),
    ):
        unknown = set(faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown SAM simulator fault(s): {sorted(unknown)}")
        self._endpoint: _PtyEndpoint | _TcpEndpoint
        if link is not None and tcp is None:
            self._endpoint = _PtyEndpoint(link)
        elif tcp is not None and link is None:
            self._endpoint = _TcpEndpoint(*tcp)
        else:
            raise ValueError("give the SAM simulator either a pty link or a TCP address")
        self.baud = baud
        self._faults = set(faults)
        self._card: IdCard | None = None
        self._next_sample = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- controls (any thread) ----------------------------------------------------------------
    def present(self, card: IdCard | None = None) -> None:
        with self._lock:
            if card is None:
                card = SAMPLE_CARDS[self._next_sample % len(SAMPLE_CARDS)]
                self._next_sample += 1
            self._card = card

    def remove(self) -> None:
        with self._lock:
            self._card = None

    def inject(self, fault: str, active: bool = True) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown SAM simulator fault {fault!r}")
        with self._lock:
            (self._faults.add if active else self._faults.discard)(fault)

    def _has(self, fault: str) -> bool:
        with self._lock:
            return fault in self._faults

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> str:
        """What a driver opens: the pty link path or ``socket://host:port``."""
        return self._endpoint.address

    def start(self) -> str:
        self._stop.clear()
        self._endpoint.open()
        self._thread = threading.Thread(target=self._run, name="sam-simulator", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self._endpoint.close()

    def _run(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            if self._has("unplugged"):
                if self._endpoint.is_open:
                    self._endpoint.close()
                    decoder.reset()
                self._stop.wait(0.05)
                continue
            if not self._endpoint.is_open:
                self._endpoint.open()
            for item in decoder.feed(self._endpoint.poll(0.05)):
                if isinstance(item, Frame):
                    self._answer(item)
                else:
                    self._send(encode_response(0x10))  # the reader reports a checksum error

    # -- protocol -----------------------------------------------------------------------------
    def _answer(self, frame: Frame) -> None:
        if self._has("silence"):
            return
        with self._lock:
            card = None if "no_card" in self._faults else self._card
        cmd = frame.command
        if cmd in (Command.SAM_STATUS.value, Command.RESET_SAM.value):
            self._send(encode_response(0x90))
        elif cmd == Command.SAM_ID.value:
            self._send(encode_response(0x90, bytes(range(16))))
        elif cmd == Command.FIND_CARD.value:
            self._send(encode_response(0x9F, b"\x00" * 4) if card else encode_response(0x80))
        elif cmd == Command.SELECT_CARD.value:
            self._send(encode_response(0x90, b"\x00" * 8) if card else encode_response(0x81))
        elif cmd == Command.READ_TEXT_PHOTO.value:
            self._read(card)
        elif cmd == Command.READ_ADDRESS.value:
            self._send(encode_response(0x91))
        elif cmd[0] == SET_BAUD and cmd[1] in _BAUD_BY_PARAM:
            self._send(encode_response(0x90))
            self.baud = _BAUD_BY_PARAM[cmd[1]]
        else:
            self._send(encode_response(0x24))

    def _read(self, card: IdCard | None) -> None:
        if card is None:
            self._send(encode_response(0x41))
            return
        with self._lock:
            failing = "read_failed" in self._faults
            self._faults.discard("read_failed")
            removed = "removed_mid_read" in self._faults
            self._faults.discard("removed_mid_read")
        if failing:
            self._send(encode_response(0x41))
            return
        answer = encode_response(
            0x90, encode_read_answer(encode_text(card), sample_photo(card.id_number))
        )
        if removed:
            self._send(answer[: len(answer) // 2])
            self.remove()
            return
        self._send(answer)

    def _send(self, frame: bytes) -> None:
        if self._has("garbage"):
            frame = b"\x13\x37\xaa\xaa\x00" + frame
        if self._has("bad_checksum"):
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        # Pace the bytes like a UART: 10 bits each at the configured speed.
        seconds_per_byte = 10.0 / self.baud
        started = time.monotonic()
        for offset in range(0, len(frame), 64):
            if not self._endpoint.write(frame[offset : offset + 64]):
                return
            due = started + (offset + 64) * seconds_per_byte
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
