"""One-tap satisfaction rating: five faces with words, and a way to skip."""

from __future__ import annotations

from functools import partial

from kiosk.session import Rate, VisitView
from kiosk.texts import Texts
from screens.base import Dispatch, Screen, centered, row
from screens.widgets import FaceButton, button, label


class RatingScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "ratingTitle")
        self.faces = [
            FaceButton(score, partial(self.dispatch, Rate(score))) for score in range(1, 6)
        ]
        self.skip = button("skipButton", lambda: self.dispatch(Rate(0)), "quiet")
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(40)
        self.column.addLayout(row(*self.faces, spacing=36))
        self.column.addSpacing(40)
        centered(self.column, self.skip)
        self.column.addStretch(1)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("rating.title"))
        for face in self.faces:
            face.setText(t(f"rating.{face.score}"))
        self.skip.setText(t("rating.skip"))
