"""好差评: five faces with the national words; after a face, the reasons that fit it (what went
well, or what went wrong) and 提交, or the rating goes in by itself after a few seconds.

The session owns the flow (which face, which reasons, when it submits); this screen shows it.
For 不满意 and 非常不满意 the reasons come forward: the question becomes the screen's title.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QPushButton

from contracts.records import COMPLAINT_REASONS, PRAISE_REASONS
from kiosk.texts import Texts
from kiosk.visit.events import PickReason, Rate, SubmitRating
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, row
from screens.widgets import FaceButton, button, label


class RatingScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "ratingTitle")
        self.faces = [FaceButton(score, partial(self._rate, score)) for score in range(1, 6)]
        for face in self.faces:
            face.setCheckable(True)
        self.reason_title = label("body", "ratingReasonTitle")
        self.reasons: dict[str, QPushButton] = {}
        for code in (*PRAISE_REASONS, *COMPLAINT_REASONS):
            chip = button(f"reason_{code}", partial(self.dispatch, PickReason(code)), "quiet")
            chip.setCheckable(True)
            self.reasons[code] = chip
        self.skip = button("skipButton", lambda: self.dispatch(Rate(0)), "quiet")
        self.submit = button("submitRating", lambda: self.dispatch(SubmitRating()), "primary")
        self.submit_in = label("body", "ratingSubmitIn", wrap=False)
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(8)
        self.column.addLayout(row(*self.faces, spacing=36))
        self.column.addSpacing(8)
        self.column.addWidget(self.reason_title)
        self.column.addLayout(row(*self.reasons.values(), spacing=24))
        self.column.addSpacing(12)
        self.column.addLayout(row(self.skip, self.submit, self.submit_in, spacing=32))
        self.column.addStretch(1)

    def _rate(self, score: int) -> None:
        # Tapping the chosen face again changes no view, so the faces are set here as well.
        for face in self.faces:
            face.setChecked(face.score == score)
        self.dispatch(Rate(score))

    def show_view(self, view: VisitView, t: Texts) -> None:
        rated = view.rating
        for face in self.faces:
            face.setText(t(f"rating.{face.score}"))
            face.setChecked(face.score == rated)
            face.set_compact(bool(rated))
        offered = () if not rated else PRAISE_REASONS if rated >= 4 else COMPLAINT_REASONS
        for code, chip in self.reasons.items():
            chip.setVisible(code in offered)
            chip.setChecked(code in view.rating_reasons)
            chip.setText(t(f"rating.reason.{code}"))
        if not rated:
            self.title.setText(t("rating.title"))
        elif rated <= 2:
            self.title.setText(t("rating.complaint_title"))
        else:
            self.title.setText(t("rating.thanks"))
        self.reason_title.setVisible(bool(rated))
        if rated:
            question = {1: "rating.sorry", 2: "rating.sorry", 3: "rating.better_title"}
            self.reason_title.setText(t(question.get(rated, "rating.praise_title")))
        self.skip.setVisible(not rated)
        self.skip.setText(t("rating.skip"))
        self.submit.setVisible(bool(rated))
        self.submit.setText(t("rating.submit"))
        self.submit_in.setVisible(view.rating_submit_in is not None)
        if view.rating_submit_in is not None:
            self.submit_in.setText(t("rating.submit_in", seconds=view.rating_submit_in))
