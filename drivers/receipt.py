"""A receipt as a printer-independent document: what to print, not how any printer prints it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Align(enum.Enum):
    LEFT = 0
    CENTER = 1
    RIGHT = 2


@dataclass(frozen=True)
class Text:
    text: str
    scale: int = 1  # 1..4: character width and height multiplier
    bold: bool = False
    align: Align = Align.LEFT


@dataclass(frozen=True)
class Rule:
    """A full-width separator line."""


@dataclass(frozen=True)
class Qr:
    data: str
    module_size: int = 6  # printer dots per QR module


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Element = Text | Rule | Qr | Feed


@dataclass(frozen=True)
class Receipt:
    elements: tuple[Element, ...]
    cut: bool = True
