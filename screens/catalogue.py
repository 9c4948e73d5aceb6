"""The service catalogue: a greeting by name and one large tile per service."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QGridLayout, QPushButton

from kiosk.catalogue import Catalogue
from kiosk.session import ChooseService, VisitView
from kiosk.texts import Texts
from screens.base import Dispatch, Screen
from screens.widgets import button, label


class CatalogueScreen(Screen):
    def __init__(self, dispatch: Dispatch, catalogue: Catalogue) -> None:
        super().__init__(dispatch)
        self.greeting = label("title", "greeting")
        self.title = label("main", "catalogueTitle")
        self.tiles: dict[str, QPushButton] = {}
        grid = QGridLayout()
        grid.setSpacing(40)
        for i, service in enumerate(catalogue.services):
            tile = button(
                f"service_{service.code}",
                partial(self.dispatch, ChooseService(service.code)),
                "tile",
            )
            tile.setMinimumWidth(760)
            self.tiles[service.code] = tile
            grid.addWidget(tile, i // 2, i % 2)
        self.column.addStretch(1)
        self.column.addWidget(self.greeting)
        self.column.addWidget(self.title)
        self.column.addSpacing(30)
        self.column.addLayout(grid)
        self.column.addStretch(2)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.greeting.setText(t("catalogue.greeting", name=view.resident_name or ""))
        self.title.setText(t("catalogue.title"))
        for code, tile in self.tiles.items():
            reason = view.unavailable.get(code)
            text = f"{t(f'service.{code}.name')}\n{t(f'service.{code}.help')}"
            if reason:
                text += f"\n{t('catalogue.unavailable')}: {t(reason)}"
            tile.setText(text)
            tile.setEnabled(reason is None)
