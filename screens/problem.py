"""When something went wrong: say plainly what happened, that nothing was lost, and who helps."""

from __future__ import annotations

from kiosk.texts import Texts
from kiosk.visit.events import Confirm
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, centered
from screens.widgets import button, label


class ProblemScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "problemTitle")
        self.body = label("main", "problemBody")
        self.back = button("problemBack", lambda: self.dispatch(Confirm()), "primary")
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(20)
        self.column.addWidget(self.body)
        self.column.addSpacing(50)
        centered(self.column, self.back)
        self.column.addStretch(2)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("problem.title"))
        self.body.setText(t(view.notice_key or "problem.record_failed"))
        self.back.setText(t("problem.back_to_start"))
