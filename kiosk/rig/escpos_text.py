"""What a receipt says, read back from the ESC/POS bytes a printer received: its lines of text and
its QR payloads (native ``GS ( k`` codes as stored, raster codes decoded from the picture).

It follows the same subset of ESC/POS as drivers/escpos_preview.py draws, so a receipt a rig
passes is one the printer would print; a stream it cannot follow is an error, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, FS, GS = 0x1B, 0x1C, 0x1D
_ESC_ONE_ARG = frozenset(b" !-MRVt{aEd")
_GS_ONE_ARG = frozenset(b"bBfhwHLk!")


class ReceiptDecodeError(ValueError):
    """The bytes are not an ESC/POS stream the rig can read."""


@dataclass
class ReceiptText:
    lines: list[str] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    cut: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def decode(data: bytes, encoding: str = "gb18030") -> ReceiptText:
    out = ReceiptText()
    line = bytearray()
    parts: list[str] = []
    cjk = False
    stored_qr = b""
    i, n = 0, len(data)

    def need(count: int) -> bytes:
        if i + count > n:
            raise ReceiptDecodeError(f"command at byte {i} is cut short")
        return data[i : i + count]

    def flush() -> None:
        if line:
            parts.append(bytes(line).decode(encoding if cjk else "cp437", errors="replace"))
            line.clear()

    def end_line() -> None:
        flush()
        out.lines.append("".join(parts).rstrip())
        parts.clear()

    while i < n:
        b = data[i]
        if b == 0x0A:
            end_line()
            i += 1
        elif b == ESC:
            cmd = need(2)[1]
            flush()
            if cmd == ord("@"):
                i += 2
            elif cmd in _ESC_ONE_ARG:
                i += 3
            else:
                raise ReceiptDecodeError(f"unknown command ESC 0x{cmd:02x} at byte {i}")
        elif b == FS:
            cmd = need(2)[1]
            flush()
            cjk = {ord("&"): True, ord("."): False}.get(cmd, cjk)
            i += 2
        elif b == GS:
            cmd = need(2)[1]
            flush()
            if cmd == ord("V"):
                i += 4 if need(3)[2] >= 0x41 else 3
                out.cut = True
            elif cmd == ord("("):
                head = need(5)
                length = head[3] | (head[4] << 8)
                body = need(5 + length)[5:]
                if body[:2] == b"\x31\x50":
                    stored_qr = body[3:]
                elif body[:2] == b"\x31\x51":
                    out.qr.append(stored_qr.decode("utf-8", errors="replace"))
                i += 5 + length
            elif cmd == ord("v"):
                head = need(8)
                width_bytes = head[4] | (head[5] << 8)
                height = head[6] | (head[7] << 8)
                raster = need(8 + width_bytes * height)[8:]
                out.qr += _raster_codes(width_bytes, height, raster)
                i += 8 + width_bytes * height
            elif cmd in _GS_ONE_ARG:
                i += 3
            else:
                raise ReceiptDecodeError(f"unknown command GS 0x{cmd:02x} at byte {i}")
        else:
            line.append(b)
            i += 1
    flush()
    if parts:
        end_line()
    return out


def _raster_codes(width_bytes: int, height: int, raster: bytes) -> list[str]:
    """QR codes in a GS v 0 picture (printers without native QR get the code this way)."""
    import numpy as np

    from drivers.vision import decode_qr

    bits = np.unpackbits(np.frombuffer(raster, dtype=np.uint8)).reshape(height, width_bytes * 8)
    picture = np.where(bits == 1, 0, 255).astype(np.uint8)
    return decode_qr(picture)
