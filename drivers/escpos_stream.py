"""Reading an ESC/POS byte stream as a printer would: the one parser behind the receipt preview
(drivers/escpos_preview.py draws it) and the rig's receipt reader (kiosk/rig/escpos_text.py
reads its text and QR codes back).

It follows the subset of ESC/POS our layout emits and steps over the other one-byte-argument
commands it can size; anything else is an error, not a guess, so a wrong command shows up as a
failure in both places at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

ESC, FS, GS = 0x1B, 0x1C, 0x1D
# Commands with one parameter byte that change nothing either reader shows.
_ESC_ONE_ARG = frozenset(b" !-MRVt{")
_GS_ONE_ARG = frozenset(b"bBfhwHLk")


class EscposStreamError(ValueError):
    """The bytes are not an ESC/POS stream this parser can follow."""


@dataclass(frozen=True)
class Style:
    align: int = 0  # 0 left, 1 centre, 2 right
    bold: bool = False
    scale_w: int = 1
    scale_h: int = 1


@dataclass(frozen=True)
class TextRun:
    """Printable text in one style (CJK decoded with the profile's encoding, else cp437)."""

    text: str
    style: Style


@dataclass(frozen=True)
class LineEnd:
    """LF: the line so far is printed, aligned as the stream says at this point."""

    align: int


@dataclass(frozen=True)
class Feed:
    """ESC d n: n blank lines (after any text waiting on the line)."""

    lines: int
    align: int


@dataclass(frozen=True)
class Cut:
    """GS V: the paper is cut (after any text waiting on the line)."""

    align: int


@dataclass(frozen=True)
class QrCode:
    """GS ( k: the QR code stored before it, printed (native QR)."""

    payload: bytes
    align: int


@dataclass(frozen=True)
class Raster:
    """GS v 0: a picture, 1 bit a dot, MSB first, a set bit printed black."""

    width_bytes: int
    height: int
    dots: bytes
    align: int


Item = TextRun | LineEnd | Feed | Cut | QrCode | Raster


def parse(data: bytes, encoding: str = "gb18030") -> Iterator[Item]:
    """The stream's items in order. Raises EscposStreamError where it cannot go on (items
    before that point have been yielded)."""
    style = Style()
    cjk = False
    text = bytearray()
    stored_qr = b""
    i, n = 0, len(data)

    def need(count: int) -> bytes:
        if i + count > n:
            raise EscposStreamError(f"command at byte {i} is cut short")
        return data[i : i + count]

    def pending() -> Iterator[TextRun]:
        if text:
            yield TextRun(bytes(text).decode(encoding if cjk else "cp437", errors="replace"), style)
            text.clear()

    while i < n:
        b = data[i]
        if b not in (0x0A, ESC, FS, GS):
            text.append(b)
            i += 1
            continue
        yield from pending()
        if b == 0x0A:
            yield LineEnd(style.align)
            i += 1
        elif b == ESC:
            cmd = need(2)[1]
            if cmd == ord("@"):
                style, cjk = Style(), False
                i += 2
            elif cmd == ord("a"):
                value = need(3)[2]
                style = replace(style, align=value - 48 if value >= 48 else value)  # 0..2, '0'..
                i += 3
            elif cmd == ord("E"):
                style = replace(style, bold=bool(need(3)[2] & 1))
                i += 3
            elif cmd == ord("d"):
                yield Feed(need(3)[2], style.align)
                i += 3
            elif cmd in _ESC_ONE_ARG:
                i += 3
            else:
                raise EscposStreamError(f"unknown command ESC 0x{cmd:02x} at byte {i}")
        elif b == FS:
            cmd = need(2)[1]
            cjk = {ord("&"): True, ord("."): False}.get(cmd, cjk)
            i += 2
        else:  # GS
            cmd = need(2)[1]
            if cmd == ord("!"):
                size = need(3)[2]
                style = replace(style, scale_w=(size >> 4) + 1, scale_h=(size & 0x0F) + 1)
                i += 3
            elif cmd == ord("V"):
                i += 4 if need(3)[2] >= 0x41 else 3
                yield Cut(style.align)
            elif cmd == ord("("):
                head = need(5)
                length = head[3] | (head[4] << 8)
                body = need(5 + length)[5:]
                if body[:2] == b"\x31\x50":  # store the code's data
                    stored_qr = body[3:]
                elif body[:2] == b"\x31\x51":  # print the stored code
                    yield QrCode(stored_qr, style.align)
                i += 5 + length
            elif cmd == ord("v"):
                head = need(8)
                width_bytes = head[4] | (head[5] << 8)
                height = head[6] | (head[7] << 8)
                dots = need(8 + width_bytes * height)[8:]
                yield Raster(width_bytes, height, dots, style.align)
                i += 8 + width_bytes * height
            elif cmd in _GS_ONE_ARG:
                i += 3
            else:
                raise EscposStreamError(f"unknown command GS 0x{cmd:02x} at byte {i}")
    yield from pending()
