"""The result: the ticket number, large, and whether the receipt has printed."""

from __future__ import annotations

from kiosk.session import Confirm, VisitView
from kiosk.texts import Texts
from screens.base import Dispatch, Screen, centered, row
from screens.widgets import CheckMark, button, label


class ResultScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "resultTitle", wrap=False)
        self.ticket_label = label("main", "ticketLabel")
        self.ticket = label("ticket", "ticketNumber")
        self.recorded = label("body", "recorded")
        self.receipt = label("main", "receiptStatus", wrap=False)
        self.next = button("nextButton", lambda: self.dispatch(Confirm()), "primary")
        self.next.setMinimumWidth(420)
        self.column.setSpacing(8)
        self.column.addStretch(1)
        self.column.addLayout(row(CheckMark(), self.title, spacing=28))
        self.column.addWidget(self.ticket_label)
        self.column.addWidget(self.ticket)
        self.column.addWidget(self.recorded)
        centered(self.column, self.receipt)
        self.column.addSpacing(12)
        centered(self.column, self.next)
        self.column.addStretch(1)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("result.title"))
        option = t(f"option.{view.option}") if view.option else ""
        self.ticket_label.setText(f"{t('result.ticket_label')} · {option}")
        self.ticket.setText(view.ticket or "")
        when = view.created_at.strftime("%H:%M") if view.created_at else ""
        self.recorded.setText(f"{t('result.recorded')} · {when}")
        receipt_key = {
            "printing": "result.printing",
            "printed": "result.printed",
            "failed": "result.print_failed",
        }.get(view.receipt or "", "")
        self.receipt.setText(t(receipt_key) if receipt_key else "")
        self.receipt.setProperty("role", "notice" if view.receipt == "failed" else "main")
        self.receipt.style().polish(self.receipt)
        self.next.setText(t("result.continue"))
