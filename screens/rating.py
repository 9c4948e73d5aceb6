"""好差评: five faces with the national words; after a face, the reasons that fit it (what went
well, or what went wrong) and 提交, or the rating goes in by itself after a few seconds.

The session owns the flow (which face, which reasons, when it submits); this screen shows it.
For 不满意 and 非常不满意 the reasons come forward: the question becomes the screen's title.

Nothing moves when a face is tapped: the reasons' room is kept while they are hidden, and 跳过
and 提交 share one place. Only what changed is painted again, and a finger aiming at a face
never finds it somewhere else.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QPushButton, QStackedWidget, QWidget

from contracts.records import COMPLAINT_REASONS, PRAISE_REASONS, reasons_for
from kiosk.texts import Texts
from kiosk.visit.events import PickReason, Rate, SubmitRating
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, row
from screens.widgets import FaceButton, button, label

CHIPS = max(len(PRAISE_REASONS), len(COMPLAINT_REASONS))


def _keep_room(widget: QWidget) -> None:
    policy = widget.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    widget.setSizePolicy(policy)


class RatingScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "ratingTitle")
        self.faces = [FaceButton(score, self._rater(score)) for score in range(1, 6)]
        for face in self.faces:
            face.setCheckable(True)
        self.reason_title = label("body", "ratingReasonTitle")
        # One chip per reason offered; each takes the code (and the name) of the reason it shows.
        self.chips: list[QPushButton] = []
        for i in range(CHIPS):
            chip = button(f"reasonChip{i}", self._picker(i), "quiet")
            chip.setCheckable(True)
            self.chips.append(chip)
        self._offered: tuple[str, ...] = ()
        self.skip = button("skipButton", lambda: self.dispatch(Rate(0)), "quiet")
        self.submit = button("submitRating", lambda: self.dispatch(SubmitRating()), "primary")
        self.submit_in = label("body", "ratingSubmitIn", wrap=False)
        for kept in (self.reason_title, *self.chips):
            _keep_room(kept)
        before, after = QWidget(), QWidget()
        for page, buttons in ((before, row(self.skip)),
                              (after, row(self.submit, self.submit_in, spacing=32))):  # fmt: skip
            buttons.setContentsMargins(0, 0, 0, 0)
            page.setLayout(buttons)
        self.way_on = QStackedWidget()  # as tall as its taller page, whichever shows
        self.way_on.addWidget(before)
        self.way_on.addWidget(after)
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(8)
        self.column.addLayout(row(*self.faces, spacing=36))
        self.column.addSpacing(8)
        self.column.addWidget(self.reason_title)
        self.column.addLayout(row(*self.chips, spacing=24))
        self.column.addSpacing(12)
        self.column.addWidget(self.way_on)
        self.column.addStretch(1)

    def _rater(self, score: int) -> Callable[[], None]:
        def rate() -> None:
            # Tapping the chosen face again changes no view, so the faces are set here as well.
            for face in self.faces:
                face.setChecked(face.score == score)
            self.dispatch(Rate(score))

        return rate

    def _picker(self, i: int) -> Callable[[], None]:
        def pick() -> None:
            if i < len(self._offered):
                self.dispatch(PickReason(self._offered[i]))

        return pick

    def show_view(self, view: VisitView, t: Texts) -> None:
        rated = view.rating
        for face in self.faces:
            face.setText(t(f"rating.{face.score}"))
            face.setChecked(face.score == rated)
        # Before a face, the complaints' words hold the room (hidden), so nothing moves after.
        offered = reasons_for(rated or 1)
        self._offered = offered if rated else ()
        for chip, code in zip(self.chips, offered, strict=False):
            chip.setObjectName(f"reason_{code}")
            chip.setText(t(f"rating.reason.{code}"))
            chip.setChecked(code in view.rating_reasons)
            chip.setVisible(bool(rated))
        if not rated:
            self.title.setText(t("rating.title"))
        elif rated <= 2:
            self.title.setText(t("rating.complaint_title"))
        else:
            self.title.setText(t("rating.thanks"))
        question = {1: "rating.sorry", 2: "rating.sorry", 3: "rating.better_title"}
        self.reason_title.setText(t(question.get(rated or 1, "rating.praise_title")))
        self.reason_title.setVisible(bool(rated))
        self.skip.setText(t("rating.skip"))
        self.submit.setText(t("rating.submit"))
        self.way_on.setCurrentIndex(1 if rated else 0)
        self.submit_in.setVisible(view.rating_submit_in is not None)
        if view.rating_submit_in is not None:
            self.submit_in.setText(t("rating.submit_in", seconds=view.rating_submit_in))
