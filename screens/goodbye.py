"""Goodbye: the resident's details are already gone; remind them to take their things."""

from __future__ import annotations

from kiosk.texts import Texts
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, centered
from screens.widgets import CheckMark, label


class GoodbyeScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "goodbyeTitle")
        self.body = label("main", "goodbyeBody")
        # Every goodbye reminds of the card; a card still on the reader is asked for by name.
        self.remind = label("notice", "goodbyeRemind")
        self.column.addStretch(1)
        centered(self.column, CheckMark(140))
        self.column.addSpacing(20)
        self.column.addWidget(self.title)
        self.column.addWidget(self.body)
        self.column.addSpacing(12)
        self.column.addWidget(self.remind)
        self.column.addStretch(1)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("goodbye.title"))
        self.body.setText(t(f"goodbye.{view.end_reason or 'finished'}"))
        self.remind.setText(t("card.take_away" if view.card_left_on_reader else "goodbye.remind"))
