"""Receipt documents to ESC/POS bytes, for the paper width and Chinese encoding of a printer.

Chinese is sent explicitly between ``FS &`` and ``FS .`` in the profile's encoding, never through
python-escpos's code-page guessing, which mangles full-width punctuation and ``￥``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from drivers.receipt import Feed, Qr, Receipt, Rule, Text

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
INIT = ESC + b"@"
CJK_ON, CJK_OFF = FS + b"&", FS + b"."
CUT = GS + b"V\x42\x03"  # feed 3 lines past the cutter, then a full cut


@dataclass(frozen=True)
class PrinterProfile:
    columns: int = 48  # font A characters per line: 48 on 80 mm paper, 32 on 58 mm
    encoding: str = "gb18030"  # or "gbk" for older printers
    native_qr: bool = True  # False: send the QR as a raster image (printers without GS ( k)


def display_width(text: str) -> int:
    """Printer columns a string takes: wide (CJK, full-width) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break *text* into lines of at most *columns*, by display width, at spaces where possible."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, width = "", 0
        for ch in paragraph:
            w = display_width(ch)
            if width + w > columns:
                cut = line.rfind(" ")
                if ch != " " and cut > 0 and line[cut + 1 :].isascii():
                    lines.append(line[:cut])
                    line = line[cut + 1 :]
                else:
                    lines.append(line.rstrip())
                    line = ""
                width = display_width(line)
                if ch == " " and not line:
                    continue
            line += ch
            width += w
        lines.append(line)
    return lines


def encode_text(text: str, encoding: str) -> bytes:
    """ASCII as is; everything else inside FS & ... FS . in the printer's Chinese encoding."""
    out = bytearray()
    run = ""
    for ch in text:
        if ch.isascii() == run.isascii() or not run:
            run += ch
            continue
        out += _encode_run(run, encoding)
        run = ch
    if run:
        out += _encode_run(run, encoding)
    return bytes(out)


def _encode_run(run: str, encoding: str) -> bytes:
    if run.isascii():
        return run.encode("ascii")
    return CJK_ON + run.encode(encoding, errors="replace") + CJK_OFF


def qr_native(data: str, module_size: int) -> bytes:
    """The five GS ( k commands: model 2, module size, error correction M, store, print."""
    payload = data.encode("utf-8")
    store_len = len(payload) + 3
    return b"".join(
        (
            GS + b"(k\x04\x00\x31\x41\x32\x00",
            GS + b"(k\x03\x00\x31\x43" + bytes([max(1, min(16, module_size))]),
            GS + b"(k\x03\x00\x31\x45\x31",
            GS + b"(k" + store_len.to_bytes(2, "little") + b"\x31\x50\x30" + payload,
            GS + b"(k\x03\x00\x31\x51\x30",
        )
    )


def qr_raster(data: str, module_size: int) -> bytes:
    """The QR as a GS v 0 raster image, for printers without native QR."""
    import segno

    matrix = segno.make_qr(data, error="m").matrix
    border = 4
    n = len(matrix) + 2 * border
    width_dots = n * module_size
    width_bytes = (width_dots + 7) // 8
    rows = bytearray()
    for y in range(n * module_size):
        my = y // module_size - border
        row = bytearray(width_bytes)
        for x in range(width_dots):
            mx = x // module_size - border
            if 0 <= my < len(matrix) and 0 <= mx < len(matrix) and matrix[my][mx]:
                row[x // 8] |= 0x80 >> (x % 8)
        rows += row
    height = n * module_size
    header = GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + height.to_bytes(2, "little")
    return header + bytes(rows)


def render(receipt: Receipt, profile: PrinterProfile) -> bytes:
    """The whole receipt as one ESC/POS byte string, starting from a printer reset."""
    out = bytearray(INIT)
    for element in receipt.elements:
        if isinstance(element, Text):
            scale = max(1, min(4, element.scale))
            out += ESC + b"a" + bytes([element.align.value])
            out += ESC + b"E" + (b"\x01" if element.bold else b"\x00")
            out += GS + b"!" + bytes([((scale - 1) << 4) | (scale - 1)])
            for line in wrap(element.text, profile.columns // scale):
                out += encode_text(line, profile.encoding) + LF
            out += GS + b"!\x00" + ESC + b"E\x00"
        elif isinstance(element, Rule):
            out += ESC + b"a\x00" + b"-" * profile.columns + LF
        elif isinstance(element, Qr):
            out += ESC + b"a\x01"
            if profile.native_qr:
                out += qr_native(element.data, element.module_size)
            else:
                out += qr_raster(element.data, element.module_size)
            out += LF + ESC + b"a\x00"
        elif isinstance(element, Feed):
            out += ESC + b"d" + bytes([max(0, min(255, element.lines))])
    if receipt.cut:
        out += CUT
    return bytes(out)
