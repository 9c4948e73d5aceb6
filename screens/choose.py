"""Choosing among a service's options (for a queue ticket: which kind of window)."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QGridLayout, QPushButton

from contracts.catalogue import Catalogue
from kiosk.texts import Texts
from kiosk.visit.events import ChooseOption
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen
from screens.widgets import button, label


class ChooseScreen(Screen):
    def __init__(self, dispatch: Dispatch, catalogue: Catalogue) -> None:
        super().__init__(dispatch)
        self.title = label("title", "chooseTitle")
        self.grid = QGridLayout()
        self.grid.setSpacing(40)
        self.buttons: dict[tuple[str, str], QPushButton] = {}
        for service in catalogue.services:
            for i, option in enumerate(service.options):
                btn = button(
                    f"option_{option.code}",
                    partial(self.dispatch, ChooseOption(option.code)),
                    "tile",
                )
                btn.setMinimumWidth(760)
                btn.setProperty("prefix", option.prefix)
                self.buttons[(service.code, option.code)] = btn
                self.grid.addWidget(btn, i // 2, i % 2)
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(30)
        self.column.addLayout(self.grid)
        self.column.addStretch(2)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("choose.title"))
        for (service, option), btn in self.buttons.items():
            btn.setVisible(service == view.service)
            btn.setText(f"{btn.property('prefix')}   {t(f'option.{option}')}")
