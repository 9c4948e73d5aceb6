"""The SAM frame protocol of resident ID card readers: framing, checksums and status words.

    host -> reader: AA AA AA 96 69 | LEN_H LEN_L | CMD PARA [DATA] | CHK
    reader -> host: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 [DATA] | CHK

LEN (big-endian) counts every byte after itself, CHK included; CHK is the XOR of LEN_H, LEN_L and
every byte after them up to CHK. Pure functions and a stream decoder: no I/O here, so the same code
serves a serial port, a pty, a socket and the simulator.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
MAX_LEN = 0x1000  # the longest real answer (text + photo + fingerprint) is about 2.3 KB


class Command(enum.Enum):
    """(CMD, PARA) pairs."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_ADDRESS = (0x30, 0x03)
    READ_TEXT_PHOTO_FP = (0x30, 0x10)


# `60 0x` sets the reader's UART speed.
BAUD_PARAMS = {115200: 0x00, 57600: 0x01, 38400: 0x02, 19200: 0x03, 9600: 0x04}
SET_BAUD = 0x60


@dataclass(frozen=True)
class Status:
    """What an SW3 value means: a stable code, and the resident message key if it is a fault."""

    code: str
    message_key: str | None  # None: not a fault


SW3: dict[int, Status] = {
    0x90: Status("ok", None),
    0x9F: Status("find_ok", None),
    0x10: Status("reader_checksum_error", "card.read_failed"),
    0x11: Status("reader_length_error", "card.read_failed"),
    0x21: Status("command_error", "device.reader_unavailable"),
    0x23: Status("unauthorised_command", "device.reader_unavailable"),
    0x24: Status("unrecognised_command", "device.reader_unavailable"),
    0x31: Status("card_authentication_failed", "card.invalid"),
    0x32: Status("sam_authentication_failed", "card.invalid"),
    0x33: Status("verification_failed", "card.invalid"),
    0x40: Status("wrong_card_type", "card.invalid"),
    0x41: Status("read_failed", "card.read_failed"),
    0x47: Status("random_failed", "card.read_failed"),
    0x60: Status("sam_self_test_failed", "device.reader_unavailable"),
    0x66: Status("sam_not_authorised", "device.reader_unavailable"),
    0x80: Status("no_card", None),
    0x81: Status("select_failed", "card.read_failed"),
    0x91: Status("no_such_item", None),
}


def status_of(sw3: int) -> Status:
    return SW3.get(sw3, Status(f"unknown_status_{sw3:02x}", "device.reader_unavailable"))


def checksum(body: bytes) -> int:
    """XOR of LEN_H, LEN_L and the bytes that follow them (everything but preamble and CHK)."""
    value = 0
    for b in body:
        value ^= b
    return value


def _frame(payload: bytes) -> bytes:
    length = len(payload) + 1
    if length > MAX_LEN:
        raise ValueError(f"frame payload of {len(payload)} bytes is too long")
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def encode_command(command: Command | tuple[int, int], data: bytes = b"") -> bytes:
    cmd, para = command.value if isinstance(command, Command) else command
    return _frame(bytes([cmd, para]) + data)


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return _frame(bytes([sw1, sw2, sw3]) + data)


COMMAND_MIN_PAYLOAD = 2  # CMD PARA
ANSWER_MIN_PAYLOAD = 3  # SW1 SW2 SW3


@dataclass(frozen=True)
class Frame:
    """One checked frame's payload: (CMD, PARA, DATA) or (SW1, SW2, SW3, DATA) by direction."""

    payload: bytes

    @property
    def sw3(self) -> int:
        return self.payload[2]

    @property
    def data(self) -> bytes:
        return self.payload[3:]

    @property
    def command(self) -> tuple[int, int]:
        return self.payload[0], self.payload[1]

    @property
    def command_data(self) -> bytes:
        return self.payload[2:]


@dataclass(frozen=True)
class FrameError:
    """Bytes that were not a valid frame: what was wrong, and how many bytes were dropped."""

    code: str  # "checksum", "length", "garbage"
    dropped: int


class FrameDecoder:
    """Feed it bytes as they arrive; it yields frames and errors, resynchronising on the preamble.

    A corrupt frame costs only itself: after a bad checksum or length the decoder skips one byte
    past the false preamble and searches again, so a following good frame is still found.
    """

    def __init__(self, *, min_payload: int = COMMAND_MIN_PAYLOAD) -> None:
        self._buf = bytearray()
        self._min_len = min_payload + 1

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        self._buf += data
        out: list[Frame | FrameError] = []
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # Keep a tail that could be the start of a preamble; the rest is noise.
                keep = _preamble_prefix_len(self._buf)
                noise = len(self._buf) - keep
                if noise:
                    out.append(FrameError("garbage", noise))
                    del self._buf[:noise]
                return out
            if start:
                out.append(FrameError("garbage", start))
                del self._buf[:start]
            if len(self._buf) < 7:
                return out
            length = int.from_bytes(self._buf[5:7], "big")
            if not self._min_len <= length <= MAX_LEN:
                out.append(FrameError("length", 1))
                del self._buf[:1]
                continue
            end = 7 + length
            if len(self._buf) < end:
                return out
            body = bytes(self._buf[5 : end - 1])
            if checksum(body) != self._buf[end - 1]:
                out.append(FrameError("checksum", 1))
                del self._buf[:1]
                continue
            out.append(Frame(body[2:]))
            del self._buf[:end]

    @property
    def pending(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()


def _preamble_prefix_len(buf: bytearray) -> int:
    for n in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf.endswith(PREAMBLE[:n]):
            return n
    return 0
