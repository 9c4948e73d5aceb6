"""A picture of what an ESC/POS printer would print, made from the bytes themselves.

The simulated printer keeps a PNG of the last receipt so a tester can see it; because the preview
interprets the very bytes a real printer would get, a wrong command shows up as a wrong picture.
It understands the subset our layout emits (and skips other ESC/GS commands it can size).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from drivers.fonts import cjk_font_path

PAPER_DOTS = 576  # printable width of 80 mm paper at 203 dpi
CELL_W, CELL_H = 12, 24  # font A
MARGIN = 24


class PreviewError(ValueError):
    """The bytes are not an ESC/POS stream this preview can follow."""


@dataclass
class _Run:
    text: str
    scale_w: int
    scale_h: int
    bold: bool


@dataclass
class _State:
    align: int = 0
    bold: bool = False
    scale_w: int = 1
    scale_h: int = 1
    cjk: bool = False
    runs: list[_Run] = field(default_factory=list)


class _Canvas:
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.blocks: list[Image.Image] = []
        path = cjk_font_path()
        self._fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}
        self._font_path = str(path) if path else None

    def font(self, px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if px not in self._fonts:
            if self._font_path:
                self._fonts[px] = ImageFont.truetype(self._font_path, px)
            else:
                self._fonts[px] = ImageFont.load_default(px)
        return self._fonts[px]

    def line(self, state: _State) -> None:
        # Characters sit in fixed cells like a printer's (wide ones take two), so columns and
        # rules line up the way they will on paper.
        height = max((r.scale_h for r in state.runs), default=1) * CELL_H + 6
        img = Image.new("L", (PAPER_DOTS, height), 255)
        draw = ImageDraw.Draw(img)
        total = sum(_cells(r.text) * CELL_W * r.scale_w for r in state.runs)
        x = {0: 0, 1: (PAPER_DOTS - total) // 2, 2: PAPER_DOTS - total}.get(state.align, 0)
        for run in state.runs:
            font = self.font(CELL_H * run.scale_h - 2)
            y = height - 4 - CELL_H * run.scale_h
            for ch in run.text:
                cell = _cells(ch) * CELL_W * run.scale_w
                glyph = draw.textlength(ch, font=font)
                draw.text(
                    (x + (cell - glyph) / 2, y),
                    ch,
                    fill=0,
                    font=font,
                    stroke_width=1 if run.bold else 0,
                )
                x += cell
        self.blocks.append(img)
        state.runs.clear()

    def feed(self, lines: int) -> None:
        if lines:
            self.blocks.append(Image.new("L", (PAPER_DOTS, lines * CELL_H), 255))

    def image(self, img: Image.Image, align: int) -> None:
        block = Image.new("L", (PAPER_DOTS, img.height + 8), 255)
        x = {0: 0, 1: (PAPER_DOTS - img.width) // 2, 2: PAPER_DOTS - img.width}.get(align, 0)
        block.paste(img, (max(0, x), 4))
        self.blocks.append(block)

    def cut(self) -> None:
        block = Image.new("L", (PAPER_DOTS, 24), 255)
        draw = ImageDraw.Draw(block)
        for x in range(0, PAPER_DOTS, 16):
            draw.line((x, 12, x + 8, 12), fill=0, width=2)
        self.blocks.append(block)

    def compose(self) -> Image.Image:
        height = sum(b.height for b in self.blocks) + 2 * MARGIN
        page = Image.new("L", (PAPER_DOTS + 2 * MARGIN, height), 255)
        y = MARGIN
        for block in self.blocks:
            page.paste(block, (MARGIN, y))
            y += block.height
        return page


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ESC commands with one parameter byte that the preview can ignore.
_ESC_ONE_ARG = frozenset(b" !-MRVt{")
_GS_ONE_ARG = frozenset(b"bBfhwHLk")


def render_preview(data: bytes, encoding: str = "gb18030") -> Image.Image:
    """Interpret an ESC/POS byte stream and draw the paper it would produce."""
    canvas = _Canvas(encoding)
    st = _State()
    text = bytearray()
    qr_data = b""
    i, n = 0, len(data)

    def need(count: int) -> bytes:
        if i + count > n:
            raise PreviewError(f"command at byte {i} is cut short")
        return data[i : i + count]

    def flush_text() -> None:
        if text:
            decoded = bytes(text).decode(encoding if st.cjk else "cp437", errors="replace")
            st.runs.append(_Run(decoded, st.scale_w, st.scale_h, st.bold))
            text.clear()

    while i < n:
        b = data[i]
        if b == 0x0A:
            flush_text()
            canvas.line(st)
            i += 1
        elif b == 0x1B:
            cmd = need(2)[1]
            flush_text()
            if cmd == ord("@"):
                st = _State()
                i += 2
            elif cmd == ord("a"):
                value = need(3)[2]
                st.align = value - 48 if value >= 48 else value  # n may be 0..2 or '0'..'2'
                i += 3
            elif cmd == ord("E"):
                st.bold = bool(need(3)[2] & 1)
                i += 3
            elif cmd == ord("d"):
                if st.runs:
                    canvas.line(st)
                canvas.feed(need(3)[2])
                i += 3
            elif cmd in _ESC_ONE_ARG:
                i += 3
            else:
                raise PreviewError(f"unknown command ESC 0x{cmd:02x} at byte {i}")
        elif b == 0x1C:
            cmd = need(2)[1]
            flush_text()
            st.cjk = {ord("&"): True, ord("."): False}.get(cmd, st.cjk)
            i += 2
        elif b == 0x1D:
            cmd = need(2)[1]
            flush_text()
            if cmd == ord("!"):
                size = need(3)[2]
                st.scale_w, st.scale_h = (size >> 4) + 1, (size & 0x0F) + 1
                i += 3
            elif cmd == ord("V"):
                mode = need(3)[2]
                i += 4 if mode >= 0x41 else 3
                if st.runs:
                    canvas.line(st)
                canvas.cut()
            elif cmd == ord("("):
                head = need(5)
                length = head[3] | (head[4] << 8)
                body = need(5 + length)[5:]
                if len(body) >= 2 and body[0] == 0x31 and body[1] == 0x50:
                    qr_data = body[3:]
                elif len(body) >= 2 and body[0] == 0x31 and body[1] == 0x51:
                    canvas.image(_qr_image(qr_data), st.align)
                i += 5 + length
            elif cmd == ord("v"):
                head = need(8)
                width_bytes = head[4] | (head[5] << 8)
                height = head[6] | (head[7] << 8)
                raster = need(8 + width_bytes * height)[8:]
                img = Image.frombytes("1", (width_bytes * 8, height), raster)
                canvas.image(Image.eval(img.convert("L"), lambda v: 255 - v), st.align)
                i += 8 + width_bytes * height
            elif cmd in _GS_ONE_ARG:
                i += 3
            else:
                raise PreviewError(f"unknown command GS 0x{cmd:02x} at byte {i}")
        else:
            text.append(b)
            i += 1
    flush_text()
    if st.runs:
        canvas.line(st)
    return canvas.compose()


def _qr_image(payload: bytes) -> Image.Image:
    import segno

    qr = segno.make_qr(payload.decode("utf-8", errors="replace"), error="m")
    size = len(qr.matrix) + 8
    scale = max(1, 240 // size)
    img = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(qr.matrix):
        for x, dark in enumerate(row):
            if dark:
                x0, y0 = (x + 4) * scale, (y + 4) * scale
                draw.rectangle((x0, y0, x0 + scale - 1, y0 + scale - 1), fill=0)
    return img
