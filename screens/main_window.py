"""The main window: header, one page per visit state, footer, timeout banner, simulator controls.

It is built in two steps so the attract screen paints before anything slow is loaded: the shell
(header, footer, attract page) first, the other pages once the backend is up (``add_pages``).
Taps made in between are kept and delivered once a controller is connected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QLayout, QStackedWidget, QVBoxLayout, QWidget

from kiosk.texts import Texts
from kiosk.visit.first_look import FirstLook
from kiosk.visit.view import State, VisitView
from screens import theme
from screens.attract import AttractScreen
from screens.chrome import Footer, Header, TimeoutBanner
from screens.lockdown import Lockdown
from screens.page import Dispatch, Page
from screens.translation import QtTexts

DEFAULT_VOLUME = 0.7  # screens.voice's default, without importing QtTextToSpeech at first paint

if TYPE_CHECKING:
    from contracts.catalogue import Catalogue
    from drivers.camera import OpenCvCamera
    from drivers.manager import DeviceManager
    from kiosk.technician.mode import DiagnosticsService
    from kiosk.visit.events import Event
    from kiosk.visit.spoken import SpeechPlanner
    from screens.layout_audit import LiveAudit
    from screens.sim_panel import SimulatorPanel
    from screens.technician.pin_entry import PinPad
    from screens.voice import Voice
    from screens.voice_controls import VoiceControls


class KioskWindow(QWidget):
    def __init__(self, look: FirstLook) -> None:
        super().__init__()
        # First: changeEvent runs as soon as the style sheet is set, below.
        self._locked = False
        self.lockdown: Lockdown | None = None
        self.setObjectName("KioskRoot")
        self.setWindowTitle("Kiosk")
        self._look = theme.NORMAL
        theme.use(self._look)
        self.setStyleSheet(theme.style_sheet(self._look))
        self._target: Dispatch | None = None
        self._render_all = True
        self._pending: list[Event] = []
        self.header = Header(self.dispatch, look)
        self.footer = Footer(self.dispatch)
        self.banner = TimeoutBanner(self.dispatch)
        self.stack = QStackedWidget()
        self.screens: dict[State, QWidget] = {State.ATTRACT: AttractScreen(self.dispatch)}
        self.stack.addWidget(self.screens[State.ATTRACT])
        layout = QVBoxLayout(self)
        # The window is the screen, whatever a page asks for: a page too tall for it must be
        # found (the layout audit) and fixed, never push the footer off the screen.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.banner)
        layout.addWidget(self.footer)
        self.sim_panel: SimulatorPanel | None = None
        self.voice: Voice | None = None
        self.voice_controls: VoiceControls | None = None
        self._planner: SpeechPlanner | None = None
        self._spoken_visit = -1
        self.pin_pad: PinPad | None = None
        self.live_audit: LiveAudit | None = None  # KIOSK_LAYOUT_AUDIT: checked after each change
        self._texts: dict[str, Texts] = {}
        self._catalogue: Catalogue | None = None  # its service names are texts too
        self.view: VisitView | None = None
        self.show_view(VisitView(State.ATTRACT, look.language, 1))

    def add_pages(
        self,
        catalogue: Catalogue,
        devices: DeviceManager | None = None,
        camera: OpenCvCamera | None = None,
    ) -> None:
        """Build the rest of the pages (the scan step shows *camera*); with *devices*, also the
        simulator's controls."""
        from screens.catalogue_page import CatalogueScreen
        from screens.choose import ChooseScreen
        from screens.confirm import ConfirmScreen
        from screens.entry import FeedbackScreen, KeypadScreen
        from screens.goodbye import GoodbyeScreen
        from screens.identify import IdentifyScreen
        from screens.problem import ProblemScreen
        from screens.processing import ProcessingScreen
        from screens.rating import RatingScreen
        from screens.result import ResultScreen
        from screens.scan import ScanScreen

        d = self.dispatch
        self._catalogue, self._texts = catalogue, {}
        pages: dict[State, QWidget] = {
            State.IDENTIFY: IdentifyScreen(d),
            State.CATALOGUE: CatalogueScreen(d, catalogue),
            State.SCAN: ScanScreen(d, camera),
            State.CHOOSE: ChooseScreen(d, catalogue),
            State.KEYPAD: KeypadScreen(d),
            State.FEEDBACK: FeedbackScreen(d),
            State.CONFIRM: ConfirmScreen(d),
            State.PROCESSING: ProcessingScreen(d),
            State.RESULT: ResultScreen(d),
            State.RATING: RatingScreen(d),
            State.PROBLEM: ProblemScreen(d),
            State.GOODBYE: GoodbyeScreen(d),
        }
        for state, page in pages.items():
            self.screens[state] = page
            self.stack.addWidget(page)
        if devices is not None:
            from screens.sim_panel import SimulatorPanel

            # Floats over the middle of the header, so the resident's layout is the real one.
            self.sim_panel = SimulatorPanel(devices, self)
            self.sim_panel.show()
            self.sim_panel.raise_()
            self._place_sim_panel()
        if self.view is not None:
            self._render_all = True  # new pages start from the view on screen
            self.show_view(self.view)

    def reconfigure(self, catalogue: Catalogue, look: FirstLook) -> None:
        """A new configuration taken up between visits: the centre's name and the pages built
        from the catalogue are replaced; the current view is shown again on the new pages."""
        from screens.catalogue_page import CatalogueScreen
        from screens.choose import ChooseScreen

        self.header.centre = look
        self._catalogue, self._texts = catalogue, {}
        for state, page in (
            (State.CATALOGUE, CatalogueScreen(self.dispatch, catalogue)),
            (State.CHOOSE, ChooseScreen(self.dispatch, catalogue)),
        ):
            old = self.screens.get(state)
            self.screens[state] = page
            self.stack.addWidget(page)
            if old is not None:
                self.stack.removeWidget(old)
                old.deleteLater()
        if self.view is not None:
            self._render_all = True  # new pages start from the view on screen
            self.show_view(self.view)

    def add_diagnostics(
        self,
        service: DiagnosticsService,
        enter: Callable[[], None],
        leave: Callable[[], None],
        *,
        taps: int = 5,
        window_seconds: float = 3.0,
    ) -> None:
        """The technician's mode: *taps* taps on the header's top-left corner within
        *window_seconds* open the PIN pad; a right PIN calls *enter* (the controller suspends
        visits and the window shows the mode); the mode's "leave" calls *leave*."""
        from screens.technician.pages import DiagnosticsScreen
        from screens.technician.pin_entry import CornerTaps, PinPad

        def left() -> None:
            service.left()
            leave()

        page = DiagnosticsScreen(service, left)
        self.screens[State.TECHNICIAN] = page
        self.stack.addWidget(page)
        self.pin_pad = PinPad(self, service, enter)
        self.corner = CornerTaps(self.header, self.open_pin_pad, taps, window_seconds)
        if self.view is not None:
            self._render_all = True  # new pages start from the view on screen
            self.show_view(self.view)

    def open_pin_pad(self) -> None:
        if self.pin_pad is None or (self.view and self.view.state is State.TECHNICIAN):
            return
        language = self.view.language if self.view else "zh_CN"
        self.pin_pad.open_pad(self.texts(language))
        if self.sim_panel is not None:
            self.sim_panel.raise_()

    def connect_controller(self, dispatch: Dispatch) -> None:
        """Send taps to *dispatch* from now on, starting with any made while loading."""
        self._target = dispatch
        pending, self._pending = self._pending, []
        for event in pending:
            dispatch(event)

    def dispatch(self, event: Event) -> None:
        if self._target is None:
            self._pending.append(event)
        else:
            self._target(event)

    def attach_voice(self, voice: Voice) -> None:
        """Say every step and every notice, with repeat, volume and on/off in the footer."""
        from kiosk.visit.spoken import SpeechPlanner
        from screens.voice_controls import VoiceControls

        self.voice = voice
        self._planner = SpeechPlanner()
        self.voice_controls = VoiceControls(voice, self.texts("zh_CN"))
        self.footer.middle.insertWidget(0, self.voice_controls)
        if self.view is not None:
            self._render_all = True  # new pages start from the view on screen
            self.show_view(self.view)

    def _speak(self, view: VisitView, t: Texts) -> None:
        if self.voice is None or self._planner is None:
            return
        if view.visit != self._spoken_visit:
            # The next resident starts with the voice on, at the usual volume.
            self._spoken_visit = view.visit
            self.voice.set_enabled(True)
            self.voice.set_volume(DEFAULT_VOLUME)
        if self.voice_controls is not None:
            self.voice_controls.retranslate(t)
        if view.state is State.TECHNICIAN:
            self.voice.stop()
            return
        speech = self._planner.plan(view, t)
        if speech is not None:
            self.voice.speak(speech)

    def lock_down(self) -> None:
        """Full screen, on top, no frame, keyboard escapes swallowed, closing refused: the
        terminal's own mode (``kiosk run`` without ``--windowed``)."""
        from PySide6.QtWidgets import QApplication

        self._locked = True
        self.setWindowFlags(
            self.windowFlags()
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.lockdown = Lockdown()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.lockdown)

    def unlock(self) -> None:
        """The terminal is shutting down (SIGTERM from systemd): now it may close."""
        self._locked = False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._locked:
            event.ignore()  # Alt+F4 reached us somehow, or a stray close(): stay up
            return
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Something took full screen away (a WM shortcut): take it back.
        changed = event.type() == QEvent.Type.WindowStateChange
        if self._locked and changed and not self.isFullScreen():
            QTimer.singleShot(0, self.showFullScreen)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_sim_panel()
        if self.pin_pad is not None:
            self.pin_pad.setGeometry(self.rect())

    def _place_sim_panel(self) -> None:
        if self.sim_panel is not None:
            hint = self.sim_panel.sizeHint()
            self.sim_panel.setGeometry((self.width() - hint.width()) // 2, 8, hint.width(), 96)

    def texts(self, language: str) -> Texts:
        if language not in self._texts:
            extra = self._catalogue.texts(language) if self._catalogue is not None else None
            self._texts[language] = QtTexts(language, extra)
        return self._texts[language]

    def _apply_look(self, view: VisitView) -> None:
        """Elder mode and high contrast are one style sheet each, made from one source."""
        look = theme.look_for(view.elder, view.contrast)
        if look == self._look:
            return
        self._look = look
        theme.use(look)
        # Pages reflow for the look first (elder mode: four services a page), so the larger
        # sizes never meet the old layout and push the window past the panel.
        for page in self.screens.values():
            restyle = getattr(page, "set_look", None)
            if restyle is not None:
                restyle(look)
        # Header and footer grow with their buttons; the page between them gives the room.
        self.header.setFixedHeight(look.header_h)
        self.footer.setFixedHeight(look.footer_h)
        self.footer.side_margin(look.footer_side_px)
        self.banner.setFixedHeight(look.footer_h)
        self.setStyleSheet(theme.style_sheet(look))
        self.update()

    def show_view(self, view: VisitView) -> None:
        """Show *view*. When a visit ends (or the language or look changes) every page is
        re-rendered, so none keeps a departed resident's details; within a visit only the page
        on screen is, which keeps a switch well inside one frame budget."""
        previous = self.view
        self.view = view
        self._apply_look(view)
        t = self.texts(view.language)
        self.header.show_view(view, t)
        current = self.screens.get(view.state, self.screens[State.ATTRACT])
        everything = (
            self._render_all
            or previous is None
            or previous.visit != view.visit
            or previous.language != view.language
            or (previous.elder, previous.contrast) != (view.elder, view.contrast)
            or (
                view.state in (State.ATTRACT, State.GOODBYE, State.TECHNICIAN)
                and previous.state is not view.state
            )
        )
        # The page being left hears of it too: the scan step lets go of the camera, say.
        leaving = self.stack.currentWidget()
        pages = self.screens.values() if everything else {current, leaving} - {None}
        for page in pages:
            page_render: Page = page  # type: ignore[assignment]
            page_render.show_view(view, t)
        self._render_all = False
        self.stack.setCurrentWidget(current)
        # The warning takes the footer's place: hide one before showing the other, or the window
        # would grow for a moment to hold both.
        self.footer.show_view(view, t)
        if view.warning_seconds is not None:
            self.footer.hide()
        self.banner.show_view(view, t)
        # The technician's pages use the footer's height; they have their own "leave".
        self.footer.setVisible(self.banner.isHidden() and view.state is not State.TECHNICIAN)
        if self.pin_pad is not None and self.pin_pad.isVisible():
            self.pin_pad.set_texts(t)
        self._speak(view, t)
        if self.live_audit is not None:
            self.live_audit.soon()
