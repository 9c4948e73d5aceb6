"""The service catalogue: a greeting, one large tile per service (name, what it is for, and,
when it cannot run now, why and what to do instead), and the elder-mode suggestion."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout

from contracts.catalogue import Catalogue
from kiosk.texts import Texts
from kiosk.visit.events import ChooseService, SetElderMode
from kiosk.visit.view import VisitView
from screens import theme
from screens.page import Dispatch, Screen, row
from screens.service_icons import ServiceIcon
from screens.widgets import button, label

COLUMNS = 3


class ServiceTile(QPushButton):
    """A big button with the service's icon, its name, a line of help and, greyed, the reason
    it cannot run now (what to do instead is said once, under the tiles). The icon and the
    labels let taps through to the button."""

    def __init__(self, code: str, icon: str, on_click: partial[None]) -> None:
        super().__init__()
        self.setObjectName(f"service_{code}")
        self.setProperty("variant", "tile")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(on_click)
        left = Qt.AlignmentFlag.AlignLeft
        self.name = label("tilename", f"tileName_{code}", wrap=False, align=left)
        self.help = label("tilehelp", f"tileHelp_{code}", wrap=False, align=left)
        self.reason = label("tilereason", f"tileReason_{code}", wrap=False, align=left)
        self.service_icon = ServiceIcon(icon)
        # The icon stands beside the name, the texts beside it: narrower side margins than
        # before pay for the icon's column, so an English reason still fits a third of a row.
        beside = QHBoxLayout(self)
        beside.setContentsMargins(24, 18, 20, 18)
        beside.setSpacing(16)
        beside.addWidget(self.service_icon, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        column.setSpacing(6)
        for lab in (self.name, self.help, self.reason):
            lab.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            column.addWidget(lab)
        column.addStretch(1)
        beside.addLayout(column, 1)

    def show_texts(self, name: str, help_text: str, reason: str | None) -> None:
        self.name.setText(name)
        self.help.setText(help_text)
        self.reason.setText(reason or "")
        self.reason.setVisible(bool(reason))
        self.help.setVisible(not reason)
        self.setEnabled(reason is None)
        # Greyed is more than a tint: the name loses its colour and weight too. A property and
        # an explicit re-polish, since a style sheet's ":disabled" of the button is not applied
        # again to the labels inside when the button changes.
        greyed = reason is not None
        self.service_icon.set_greyed(greyed)
        if self.name.property("greyed") != greyed:
            self.name.setProperty("greyed", greyed)
            self.name.style().unpolish(self.name)
            self.name.style().polish(self.name)


class CatalogueScreen(Screen):
    def __init__(self, dispatch: Dispatch, catalogue: Catalogue) -> None:
        super().__init__(dispatch)
        self.greeting = label("title", "greeting", wrap=False)
        self.title = label("main", "catalogueTitle", wrap=False)
        self.elder = QFrame()
        self.elder.setObjectName("ElderSuggestion")
        self.elder_text = label(
            "body", "elderSuggestion", wrap=False, align=Qt.AlignmentFlag.AlignLeft
        )
        self.elder_yes = button("elderYes", lambda: self.dispatch(SetElderMode(True)), "quiet")
        self.elder_no = button("elderNo", lambda: self.dispatch(SetElderMode(False)), "quiet")
        suggestion = QHBoxLayout(self.elder)
        suggestion.setContentsMargins(28, 4, 28, 4)
        suggestion.addWidget(self.elder_text, 1)
        suggestion.addWidget(self.elder_yes)
        suggestion.addWidget(self.elder_no)
        self.tiles: dict[str, ServiceTile] = {}
        self.grid = QGridLayout()
        self.grid.setSpacing(20)
        for service in catalogue.services:
            choose = partial(self.dispatch, ChooseService(service.code))
            tile = ServiceTile(service.code, service.icon, choose)
            self.tiles[service.code] = tile
        # Elder mode shows fewer services at once: pages, turned with two large buttons.
        self.previous = button("cataloguePrevious", lambda: self._turn(-1), "quiet")
        self.more = button("catalogueMore", lambda: self._turn(1), "quiet")
        # One line for every greyed tile: what the resident can do instead.
        self.instead = label("body", "catalogueInstead", wrap=False)
        self._page, self._per_page, self._visit = 0, len(self.tiles), -1
        self._view: tuple[VisitView, Texts] | None = None
        # Narrower than other pages' sides: three tiles a row, each with its icon, need the width.
        self.column.setContentsMargins(80, 16, 80, 8)
        self.column.addWidget(self.greeting)
        self.column.addWidget(self.title)
        self.column.addWidget(self.elder)
        self.column.addSpacing(8)
        self.column.addLayout(self.grid)
        self.column.addWidget(self.instead)
        self.column.addLayout(row(self.previous, self.more))
        self.column.addStretch(1)
        self.set_look(theme.current())

    def set_look(self, look: theme.Look) -> None:
        per_page = min(look.tiles_per_page, len(self.tiles)) or 1
        columns = 2 if per_page <= 4 else COLUMNS
        for i, tile in enumerate(self.tiles.values()):
            tile.service_icon.set_look(look)
            self.grid.addWidget(tile, (i % per_page) // columns, (i % per_page) % columns)
        self._per_page, self._page = per_page, 0
        if self._view is not None:
            self.show_view(*self._view)

    def _turn(self, step: int) -> None:
        pages = -(-len(self.tiles) // self._per_page)
        self._page = (self._page + step) % pages
        if self._view is not None:
            self.show_view(*self._view)

    def show_view(self, view: VisitView, t: Texts) -> None:
        name = view.resident_name
        self.greeting.setText(
            t("catalogue.greeting", name=name) if name else t("catalogue.welcome")
        )
        self.title.setText(t("catalogue.title"))
        self.elder.setVisible(view.suggest_elder)
        self.title.setVisible(not view.suggest_elder)  # the suggestion takes its line
        self.elder_text.setText(t("elder.suggest"))
        self.elder_yes.setText(t("elder.yes"))
        self.elder_no.setText(t("elder.no"))
        self._view = (view, t)
        if view.visit != self._visit:
            self._page, self._visit = 0, view.visit  # every resident starts on the first page
        pages = -(-len(self.tiles) // self._per_page)
        alternatives = []
        for i, (code, tile) in enumerate(self.tiles.items()):
            why = view.unavailable.get(code)
            shown = i // self._per_page == self._page
            tile.show_texts(
                t(f"service.{code}.name"), t(f"service.{code}.help"), t(why[0]) if why else None
            )
            tile.setVisible(shown)
            if why and shown and why[1] not in alternatives:
                alternatives.append(why[1])
        self.instead.setText(" ".join(t(f"{key}.long") for key in alternatives))
        self.instead.setVisible(bool(alternatives))
        self.previous.setText(t("catalogue.previous"))
        self.more.setText(t("catalogue.more", page=self._page + 1, pages=pages))
        self.previous.setVisible(pages > 1 and self._page > 0)
        self.more.setVisible(pages > 1)
