"""The result of a service: a ticket number, a query's answer, a request slip offered or printed,
thanks for feedback, or staff on their way; with the receipt's state and, when paper failed,
a QR code to photograph instead."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from kiosk.texts import Texts
from kiosk.visit.events import Confirm, PrintAnswer, RequestSlip
from kiosk.visit.view import VisitView, ahead_key
from screens.page import Dispatch, Screen, centered, row
from screens.qr_code import QrCode
from screens.widgets import CheckMark, button, label

MAX_LINES = 8  # answer lines shown; the platform sends few, this keeps the screen calm
_SUCCESS = {"ticket", "answer", "slip", "feedback", "staff", "certificate"}


class ResultScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.check = CheckMark()
        self.title = label("title", "resultTitle", wrap=False)
        self.body = label("main", "resultBody")
        self.ticket_label = label("main", "ticketLabel")
        self.ticket = label("ticket", "ticketNumber", wrap=False)  # a number never wraps
        self.ahead = label("main", "ticketAhead", wrap=False)
        self.recorded = label("body", "recorded", wrap=False)
        self.lines = QWidget()
        grid = QGridLayout(self.lines)
        grid.setHorizontalSpacing(40)
        grid.setVerticalSpacing(6)
        self.line_labels = []
        for i in range(MAX_LINES):
            name = label("answerlabel", f"answerLabel{i}", wrap=False)
            value = label("answervalue", f"answerValue{i}", wrap=False)
            grid.addWidget(name, i, 0)
            grid.addWidget(value, i, 1)
            self.line_labels.append((name, value))
        # One line each: a wrapped label beside the QR code would be squeezed into a column.
        self.receipt = label("main", "receiptStatus", wrap=False)
        self.qr = QrCode(160)
        self.qr_hint = label("body", "qrHint", wrap=False)
        self.print = button("printAnswer", lambda: self.dispatch(PrintAnswer()))
        self.slip = button("requestSlip", lambda: self.dispatch(RequestSlip()), "primary")
        self.next = button("nextButton", lambda: self.dispatch(Confirm()), "primary")
        self.next.setMinimumWidth(420)
        self.column.setSpacing(6)
        self.column.addStretch(1)
        self.column.addLayout(row(self.check, self.title, spacing=28))
        self.column.addWidget(self.body)
        self.column.addWidget(self.ticket_label)
        self.column.addWidget(self.ticket)
        # One line for both: elder mode's large type has no room for another under the number.
        self.column.addLayout(row(self.ahead, self.recorded, spacing=32))
        centered(self.column, self.lines)
        # The receipt's state, and when paper failed the QR code beside what to do with it.
        words = QVBoxLayout()
        words.addWidget(self.receipt)
        words.addWidget(self.qr_hint)
        paper = row(self.qr, spacing=28)
        paper.insertLayout(2, words)
        self.column.addLayout(paper)
        self.column.addSpacing(4)
        self.column.addLayout(row(self.print, self.slip, self.next))
        self.column.addStretch(1)

    def show_view(self, view: VisitView, t: Texts) -> None:
        outcome = view.outcome or "ticket"
        self.check.setVisible(outcome in _SUCCESS)
        self.title.setText(t(f"result.{outcome}.title"))
        body = t(f"result.{outcome}.body")
        if view.reason_key:
            body = t(view.reason_key) or body
        self.body.setText(body)
        self.body.setVisible(bool(body))
        numbered = outcome in ("ticket", "slip")
        option = t(f"option.{view.option}") if view.option else ""
        label_text = t("result.ticket_label") if outcome == "ticket" else t("result.slip_label")
        self.ticket_label.setText(f"{label_text} · {option}" if option else label_text)
        self.ticket.setText(view.ticket or "")
        # How many wait ahead, when the platform said (offline it cannot know: nothing shown).
        ahead = view.ahead if outcome == "ticket" else None
        self.ahead.setVisible(ahead is not None)
        if ahead is not None:
            self.ahead.setText(t(ahead_key(ahead), count=ahead))
        when = view.created_at.strftime("%H:%M") if view.created_at else ""
        self.recorded.setText(t("result.recorded", time=when))
        for w in (self.ticket_label, self.ticket):
            w.setVisible(numbered)
        self.recorded.setVisible(outcome == "ticket")  # the slip's words already say it
        self._show_answer(view)
        self._show_receipt(view, t)
        self.print.setText(t("result.print_answer"))
        self.print.setVisible(outcome == "answer" and view.receipt is None)
        self.slip.setText(t("result.request_slip"))
        self.slip.setVisible(outcome == "offline_offer")
        # Staff are on their way: the resident is asked to wait here, not sent on to a rating.
        next_key = {"offline_offer": "result.no_thanks", "staff": "result.staff.ok"}
        self.next.setText(t(next_key.get(outcome or "", "result.continue")))
        self.next.setProperty("variant", "" if outcome == "offline_offer" else "primary")
        self.next.style().polish(self.next)

    def _show_answer(self, view: VisitView) -> None:
        lines = view.answer[:MAX_LINES] if view.outcome in ("answer", "certificate") else ()
        self.lines.setVisible(bool(lines))
        for i, (name, value) in enumerate(self.line_labels):
            line = lines[i] if i < len(lines) else None
            name.setText(line.label(view.language) if line else "")
            value.setText(line.value if line else "")
            name.setVisible(line is not None)
            value.setVisible(line is not None)

    def _show_receipt(self, view: VisitView, t: Texts) -> None:
        receipt_key = {
            "printing": "result.printing",
            "printed": "result.printed",
            "failed": "result.print_failed",
        }.get(view.receipt or "", "")
        self.receipt.setText(t(receipt_key) if receipt_key else "")
        self.receipt.setVisible(bool(receipt_key))
        self.receipt.setProperty("role", "notice" if view.receipt == "failed" else "main")
        self.receipt.style().polish(self.receipt)
        # Paper failed: the same facts as a QR code to photograph (no personal data in it).
        code = view.reference or view.ticket or ""
        failed = view.receipt == "failed" and bool(code)
        self.recorded.setVisible(self.recorded.isVisibleTo(self) and not failed)
        self.qr.set_text(f"KIOSK-REF:{code}" if failed else "")
        self.qr.setVisible(failed)
        self.qr_hint.setText(t("result.photograph") if failed else "")
        self.qr_hint.setVisible(failed)
