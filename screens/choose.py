"""Choosing among a service's options (which kind of window, which certificate), under the
service's own question. More options than the look shows at once go on pages (elder mode shows
four), turned with two large buttons, like the catalogue."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QGridLayout, QPushButton

from contracts.catalogue import Catalogue
from kiosk.texts import Texts
from kiosk.visit.events import ChooseOption
from kiosk.visit.view import VisitView
from screens import theme
from screens.page import Dispatch, Screen, row
from screens.widgets import button, label

COLUMNS = 2


class ChooseScreen(Screen):
    def __init__(self, dispatch: Dispatch, catalogue: Catalogue) -> None:
        super().__init__(dispatch)
        self.title = label("title", "chooseTitle")
        self.grid = QGridLayout()
        self.grid.setSpacing(40)
        self.options: dict[str, list[QPushButton]] = {}
        for service in catalogue.services:
            buttons = self.options.setdefault(service.code, [])
            for option in service.options:
                btn = button(
                    f"option_{option.code}",
                    partial(self.dispatch, ChooseOption(option.code)),
                    "tile",
                )
                btn.setMinimumWidth(760)
                btn.setProperty("prefix", option.prefix)
                btn.setProperty("option", option.code)
                buttons.append(btn)
        self.previous = button("choosePrevious", lambda: self._turn(-1), "quiet")
        self.more = button("chooseMore", lambda: self._turn(1), "quiet")
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(30)
        self.column.addLayout(self.grid)
        self.column.addSpacing(20)
        self.column.addLayout(row(self.previous, self.more))
        self.column.addStretch(2)
        self._page, self._visit, self._per_page = 0, -1, 1
        self._view: tuple[VisitView, Texts] | None = None
        self.set_look(theme.current())

    def set_look(self, look: theme.Look) -> None:
        self._per_page, self._page = max(1, look.choices_per_page), 0
        for buttons in self.options.values():
            for i, btn in enumerate(buttons):
                spot = i % self._per_page
                self.grid.addWidget(btn, spot // COLUMNS, spot % COLUMNS)
        if self._view is not None:
            self.show_view(*self._view)

    def _turn(self, step: int) -> None:
        if self._view is None:
            return
        pages = self._pages(self._view[0].service)
        self._page = (self._page + step) % pages
        self.show_view(*self._view)

    def _pages(self, service: str | None) -> int:
        return max(1, -(-len(self.options.get(service or "", [])) // self._per_page))

    def show_view(self, view: VisitView, t: Texts) -> None:
        self._view = (view, t)
        if view.visit != self._visit:
            self._page, self._visit = 0, view.visit  # every resident starts on the first page
        # The service's own question ("which certificate?"), else the general one.
        own = t(f"choose.title.{view.service}") if view.service else ""
        self.title.setText(own or t("choose.title"))
        pages = self._pages(view.service)
        self._page = min(self._page, pages - 1)
        for service, buttons in self.options.items():
            for i, btn in enumerate(buttons):
                here = service == view.service and i // self._per_page == self._page
                btn.setVisible(here)
                if here:
                    option = btn.property("option")
                    btn.setText(f"{btn.property('prefix')}   {t(f'option.{option}')}")
        self.previous.setVisible(pages > 1 and self._page > 0)
        self.more.setVisible(pages > 1)
        self.previous.setText(t("catalogue.previous"))
        self.more.setText(t("choose.more", page=self._page + 1, pages=pages))
