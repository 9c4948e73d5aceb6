"""A ready-made phrase on the feedback keyboard, wrapped onto two lines when one is too narrow.

A phrase is only useful when it can be read whole before it is tapped, and English phrases are
twice as wide as Chinese ones: at elder size "Please open more staffed windows" needs more than
half the keyboard. So the chip takes the width its column gives it (never asking for more, which
would push the keyboard past the screen) and breaks the phrase where its two lines come out most
even, between words (between characters for Chinese). The chip's height holds two lines.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QPushButton, QSizePolicy, QStyle, QStyleOptionButton

MAX_LINES = 2
CJK = 0x2E80  # from here on, characters are written without spaces between words
CLOSING = set("，。？！、：；）》」』”’…")  # a line never starts with one of these


def shown(text: str) -> str:
    """A button label: a lone ``&`` marks a shortcut in Qt and would vanish from the key."""
    return text.replace("&", "&&")


def wrapped(phrase: str, width: Callable[[str], int], room: int) -> list[str]:
    """*phrase* in as few lines as fit *room* (at most ``MAX_LINES``), the lines as even as
    can be; the most even two lines when nothing fits, so the overflow is as small as it gets.
    Words break at spaces; Chinese between characters, never before a closing mark; a single
    Latin word never."""
    if " " in phrase.strip():
        units, joiner = phrase.split(), " "
    elif any(ord(ch) >= CJK for ch in phrase):
        units, joiner = list(phrase), ""
    else:
        units, joiner = [phrase], ""
    breaks = [i for i in range(1, len(units)) if units[i] not in CLOSING]
    if width(phrase) <= room or not breaks:
        return [phrase]
    splits = [[joiner.join(units[:i]), joiner.join(units[i:])] for i in breaks]
    return min(splits, key=lambda lines: max(width(line) for line in lines))


class PhraseChip(QPushButton):
    """A phrase key: ``set_phrase`` gives it its words; ``phrase`` is what a tap adds, whatever
    line breaks the label shows."""

    def __init__(self, name: str, on_click: Callable[[], None]) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setProperty("variant", "chip")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # The column decides the width, not the words: their length is why we wrap.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.clicked.connect(on_click)
        self.phrase = ""

    def set_phrase(self, phrase: str) -> None:
        self.phrase = phrase
        self._wrap()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._wrap()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # A new look brings a new font size (elder mode): the same width holds fewer words.
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._wrap()

    def _room(self) -> int:
        option = QStyleOptionButton()
        self.initStyleOption(option)
        contents = self.style().subElementRect(
            QStyle.SubElement.SE_PushButtonContents, option, self
        )
        return contents.width()

    def _wrap(self) -> None:
        metrics = QFontMetrics(self.font())
        lines = wrapped(self.phrase, lambda s: metrics.horizontalAdvance(shown(s)), self._room())
        text = "\n".join(shown(line) for line in lines)
        if text != self.text():
            self.setText(text)
