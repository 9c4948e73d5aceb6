"""The screen base class: a page that renders a VisitView and reports the resident's intents."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.texts import Texts

if TYPE_CHECKING:  # the first frame imports no event classes (kiosk.visit.view)
    from kiosk.visit.events import Event
    from kiosk.visit.view import VisitView

Dispatch = Callable[["Event"], None]


class Screen(QWidget):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__()
        self.dispatch = dispatch
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(120, 24, 120, 16)
        self.column.setSpacing(16)


class Page(Protocol):
    """What the main window needs of a screen: it can show a visit in a language."""

    def show_view(self, view: VisitView, t: Texts) -> None: ...


def row(*widgets: QWidget, spacing: int = 40) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setSpacing(spacing)
    layout.addStretch(1)
    for w in widgets:
        layout.addWidget(w)
    layout.addStretch(1)
    return layout


def centered(layout: QBoxLayout, widget: QWidget) -> None:
    layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
