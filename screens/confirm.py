"""Confirming before anything is recorded: one sentence, one big button."""

from __future__ import annotations

from kiosk.texts import Texts
from kiosk.visit.events import Confirm
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, centered
from screens.widgets import button, label


class ConfirmScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "confirmTitle")
        self.body = label("main", "confirmBody")
        self.details = label("body", "confirmDetails")  # what a feedback will submit
        self.ok = button("confirmButton", lambda: self.dispatch(Confirm()), "primary")
        self.ok.setMinimumWidth(560)
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(20)
        self.column.addWidget(self.body)
        self.column.addWidget(self.details)
        self.column.addSpacing(60)
        centered(self.column, self.ok)
        self.column.addStretch(2)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("confirm.title"))
        service = t(f"service.{view.service}.name")
        option = t(f"option.{view.option}") if view.option else service
        action = view.action or "ticket"
        self.body.setText(t(f"confirm.{action}.body", option=option, service=service))
        self.ok.setText(t(f"confirm.{action}.ok"))
        lines = []
        if view.feedback_text:
            lines.append(t("confirm.feedback.text", text=view.feedback_text))
        if view.feedback_phone:
            lines.append(t("confirm.feedback.phone", phone=view.feedback_phone))
        self.details.setText("\n".join(lines))
        self.details.setVisible(bool(lines))
