"""While the transaction is committed: a slow spinner and one reassuring line."""

from __future__ import annotations

from kiosk.texts import Texts
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, centered
from screens.widgets import Spinner, label


class ProcessingScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "processingTitle")
        self.column.addStretch(1)
        centered(self.column, Spinner(160))
        self.column.addSpacing(30)
        self.column.addWidget(self.title)
        self.column.addStretch(1)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("processing.title"))
