"""The main window: header, one page per visit state, footer, timeout banner, simulator controls."""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from drivers.manager import DeviceManager
from kiosk.catalogue import Catalogue
from kiosk.session import State, VisitView
from kiosk.settings import CentreSettings
from kiosk.texts import Texts
from screens import theme
from screens.attract import AttractScreen
from screens.base import Dispatch, Page
from screens.catalogue import CatalogueScreen
from screens.choose import ChooseScreen
from screens.chrome import Footer, Header, TimeoutBanner
from screens.confirm import ConfirmScreen
from screens.goodbye import GoodbyeScreen
from screens.identify import IdentifyScreen
from screens.problem import ProblemScreen
from screens.processing import ProcessingScreen
from screens.rating import RatingScreen
from screens.result import ResultScreen
from screens.sim_panel import SimulatorPanel


class KioskWindow(QWidget):
    def __init__(
        self,
        dispatch: Dispatch,
        catalogue: Catalogue,
        centre: CentreSettings,
        devices: DeviceManager | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("KioskRoot")
        self.setWindowTitle("Kiosk")
        self.setStyleSheet(theme.style_sheet())
        self.header = Header(dispatch, centre)
        self.footer = Footer(dispatch)
        self.banner = TimeoutBanner(dispatch)
        self.stack = QStackedWidget()
        screens: dict[State, QWidget] = {
            State.ATTRACT: AttractScreen(dispatch),
            State.IDENTIFY: IdentifyScreen(dispatch),
            State.CATALOGUE: CatalogueScreen(dispatch, catalogue),
            State.CHOOSE: ChooseScreen(dispatch, catalogue),
            State.CONFIRM: ConfirmScreen(dispatch),
            State.PROCESSING: ProcessingScreen(dispatch),
            State.RESULT: ResultScreen(dispatch),
            State.RATING: RatingScreen(dispatch),
            State.PROBLEM: ProblemScreen(dispatch),
            State.GOODBYE: GoodbyeScreen(dispatch),
        }
        self.screens = screens
        for widget in screens.values():
            self.stack.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.banner)
        layout.addWidget(self.footer)
        self.sim_panel: SimulatorPanel | None = None
        if devices is not None:
            # Floats over the middle of the header, so the resident's layout is the real one.
            self.sim_panel = SimulatorPanel(devices, self)
            self.sim_panel.raise_()
        self._texts: dict[str, Texts] = {}
        self.view: VisitView | None = None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.sim_panel is not None:
            hint = self.sim_panel.sizeHint()
            self.sim_panel.setGeometry((self.width() - hint.width()) // 2, 8, hint.width(), 96)

    def texts(self, language: str) -> Texts:
        if language not in self._texts:
            self._texts[language] = Texts(language)
        return self._texts[language]

    def show_view(self, view: VisitView) -> None:
        """Show *view*. Every page is re-rendered so none keeps a departed resident's details."""
        self.view = view
        t = self.texts(view.language)
        self.header.show_view(view, t)
        for page in self.screens.values():
            page_render: Page = page  # type: ignore[assignment]
            page_render.show_view(view, t)
        self.stack.setCurrentWidget(self.screens[view.state])
        # The warning takes the footer's place: hide one before showing the other, or the window
        # would grow for a moment to hold both.
        self.footer.show_view(view, t)
        if view.warning_seconds is not None:
            self.footer.hide()
        self.banner.show_view(view, t)
        self.footer.setVisible(self.banner.isHidden())
