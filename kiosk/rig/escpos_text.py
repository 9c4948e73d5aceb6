"""What a receipt says, read back from the ESC/POS bytes a printer received: its lines of text and
its QR payloads (native ``GS ( k`` codes as stored, raster codes decoded from the picture).

It reads the stream with the same parser the receipt preview draws from
(drivers/escpos_stream.py), so a receipt a rig passes is one the printer would print; a stream it
cannot follow is an error, not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.escpos_stream import Cut, EscposStreamError, LineEnd, QrCode, Raster, TextRun, parse

# The bytes are not an ESC/POS stream the rig can read; the message says where.
ReceiptDecodeError = EscposStreamError


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
    line: list[str] = []
    for item in parse(data, encoding):
        if isinstance(item, TextRun):
            line.append(item.text)
        elif isinstance(item, LineEnd):
            out.lines.append("".join(line).rstrip())
            line.clear()
        elif isinstance(item, Cut):
            out.cut = True
        elif isinstance(item, QrCode):
            out.qr.append(item.payload.decode("utf-8", errors="replace"))
        elif isinstance(item, Raster):
            out.qr += _raster_codes(item)
    if line:
        out.lines.append("".join(line).rstrip())
    return out


def _raster_codes(picture: Raster) -> list[str]:
    """QR codes in a GS v 0 picture (printers without native QR get the code this way)."""
    import numpy as np

    from drivers.vision import decode_qr

    bits = np.unpackbits(np.frombuffer(picture.dots, dtype=np.uint8))
    dots = bits.reshape(picture.height, picture.width_bytes * 8)
    return decode_qr(np.where(dots == 1, 0, 255).astype(np.uint8))
