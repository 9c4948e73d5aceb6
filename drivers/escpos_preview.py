"""A picture of what an ESC/POS printer would print, made from the bytes themselves.

The simulated printer keeps a PNG of the last receipt so a tester can see it; because the preview
interprets the very bytes a real printer would get, a wrong command shows up as a wrong picture.
It understands the subset our layout emits (and skips other ESC/GS commands it can size).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from drivers.escpos_stream import Cut, EscposStreamError, Feed, LineEnd, QrCode, TextRun, parse
from drivers.fonts import cjk_font_path

PAPER_DOTS = 576  # printable width of 80 mm paper at 203 dpi
CELL_W, CELL_H = 12, 24  # font A
MARGIN = 24


# The bytes are not an ESC/POS stream this preview can follow; the message says where.
PreviewError = EscposStreamError


@dataclass
class _Line:
    align: int = 0
    runs: list[TextRun] = field(default_factory=list)


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

    def line(self, line: _Line) -> None:
        # Characters sit in fixed cells like a printer's (wide ones take two), so columns and
        # rules line up the way they will on paper.
        height = max((r.style.scale_h for r in line.runs), default=1) * CELL_H + 6
        img = Image.new("L", (PAPER_DOTS, height), 255)
        draw = ImageDraw.Draw(img)
        total = sum(_cells(r.text) * CELL_W * r.style.scale_w for r in line.runs)
        x = {0: 0, 1: (PAPER_DOTS - total) // 2, 2: PAPER_DOTS - total}.get(line.align, 0)
        for run in line.runs:
            font = self.font(CELL_H * run.style.scale_h - 2)
            y = height - 4 - CELL_H * run.style.scale_h
            for ch in run.text:
                cell = _cells(ch) * CELL_W * run.style.scale_w
                glyph = draw.textlength(ch, font=font)
                draw.text(
                    (x + (cell - glyph) / 2, y),
                    ch,
                    fill=0,
                    font=font,
                    stroke_width=1 if run.style.bold else 0,
                )
                x += cell
        self.blocks.append(img)
        line.runs.clear()

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


def render_preview(data: bytes, encoding: str = "gb18030") -> Image.Image:
    """Interpret an ESC/POS byte stream and draw the paper it would produce."""
    canvas = _Canvas(encoding)
    line = _Line()
    for item in parse(data, encoding):  # EscposStreamError (PreviewError) where it cannot go on
        if isinstance(item, TextRun):
            line.runs.append(item)
            line.align = item.style.align
        elif isinstance(item, LineEnd):
            line.align = item.align
            canvas.line(line)
        elif isinstance(item, Feed | Cut):
            if line.runs:
                line.align = item.align
                canvas.line(line)
            if isinstance(item, Feed):
                canvas.feed(item.lines)
            else:
                canvas.cut()
        elif isinstance(item, QrCode):
            canvas.image(_qr_image(item.payload), item.align)
        else:
            img = Image.frombytes("1", (item.width_bytes * 8, item.height), item.dots)
            canvas.image(Image.eval(img.convert("L"), lambda v: 255 - v), item.align)
    if line.runs:
        canvas.line(line)
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
