"""One-tap satisfaction rating: five faces with words, an optional reason chosen first (tap a
reason, then a face), and a way to skip."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QPushButton

from kiosk.texts import Texts
from kiosk.visit.events import Rate
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, row
from screens.widgets import FaceButton, button, label

REASONS = ("wait", "hard", "device", "result")


class RatingScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "ratingTitle")
        self.faces = [FaceButton(score, partial(self._rate, score)) for score in range(1, 6)]
        self.reason_title = label("body", "ratingReasonTitle")
        self.reasons: dict[str, QPushButton] = {}
        for code in REASONS:
            chip = button(f"reason_{code}", partial(self._pick, code), "quiet")
            chip.setCheckable(True)
            self.reasons[code] = chip
        self.skip = button("skipButton", lambda: self.dispatch(Rate(0)), "quiet")
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(12)
        self.column.addLayout(row(*self.faces, spacing=36))
        self.column.addSpacing(12)
        self.column.addWidget(self.reason_title)
        self.column.addLayout(row(*self.reasons.values(), self.skip, spacing=24))
        self.column.addStretch(1)
        self._visit = -1

    def _pick(self, code: str) -> None:
        for other, chip in self.reasons.items():
            chip.setChecked(other == code and chip.isChecked())

    def _rate(self, score: int) -> None:
        chosen = next((code for code, chip in self.reasons.items() if chip.isChecked()), None)
        self.dispatch(Rate(score, chosen))

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("rating.title"))
        for face in self.faces:
            face.setText(t(f"rating.{face.score}"))
        self.reason_title.setText(t("rating.reason_title"))
        for code, chip in self.reasons.items():
            chip.setText(t(f"rating.reason.{code}"))
            if view.visit != self._visit:
                chip.setChecked(False)  # the last resident's choice is not the next one's
        self._visit = view.visit
        self.skip.setText(t("rating.skip"))
