"""The composition root: the one place that builds devices, storage, the controller and the window.

Startup is two-phase so a resident never waits on hardware or imports to see the terminal: the
window shell and attract screen paint first (Qt and the standard library only); the settings are
validated and devices, database and the remaining pages come up right after the first frame.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QMessageLogContext,
    QObject,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from kiosk.errors import KioskError
from kiosk.visit.first_look import FirstLook, first_look
from kiosk.visit.session import State, VisitView
from screens import theme
from screens.bridge import MainThreadPoster
from screens.main_window import KioskWindow

if TYPE_CHECKING:
    from drivers.manager import DeviceManager
    from kiosk.config.settings import Settings
    from kiosk.technician.mode import DiagnosticsService
    from kiosk.visit.controller import VisitController

log = logging.getLogger(__name__)
# Until the log file is set up, Qt's chatter goes nowhere rather than to stderr.
logging.getLogger("qt").addHandler(logging.NullHandler())

TICK_MS = 250
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class DisplayError(KioskError):
    """There is no screen to show the terminal on."""


class StartupError(KioskError):
    """The terminal could not come up (bad configuration, unusable data directory)."""


@dataclass
class KioskApp:
    window: KioskWindow
    controller: VisitController
    devices: DeviceManager
    poster: MainThreadPoster
    ticker: QTimer
    diagnostics: DiagnosticsService | None = None
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    def shutdown(self) -> None:
        self.ticker.stop()
        if self.diagnostics is not None:
            self.diagnostics.shutdown()  # before the outbox worker: its audit records go there
        self.controller.shutdown()
        for stop in self.stoppers:
            stop()


def ensure_display() -> None:
    if sys.platform.startswith("linux") and not (
        os.environ.get("QT_QPA_PLATFORM")
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise DisplayError(
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset); run on the terminal's "
            "screen, under Xvfb, or set QT_QPA_PLATFORM=offscreen"
        )


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    # Qt warnings are platform chatter (e.g. offscreen's "propagateSizeHints"): log file only.
    QtMsgType.QtWarningMsg: logging.INFO,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # Qt's own chatter goes to our log, not to a technician's terminal.
    logging.getLogger("qt").log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def qt_app() -> QApplication:
    qInstallMessageHandler(_qt_message)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setFont(QFont(theme.FONT_FAMILY, 16))
    return app


def look_of(settings: Settings) -> FirstLook:
    return FirstLook(settings.language, settings.centre.name_zh, settings.centre.name_en)


def attach_backend(window: KioskWindow, settings: Settings, *, simulate: bool) -> KioskApp:
    """Build devices, outbox worker and controller behind *window*; devices are not started."""
    from drivers.manager import DeviceManager
    from drivers.registry import ConfigError
    from kiosk.config.settings import data_dir_of
    from kiosk.config.shipped import default_catalogue
    from kiosk.technician.mode import DiagnosticsService
    from kiosk.visit.controller import VisitController
    from kiosk.visit.session import VisitSession

    data_dir = data_dir_of(settings)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"data directory {data_dir}: {exc.strerror}") from exc
    if simulate:
        settings = settings.simulated()
    from kiosk.config.live import LiveConfig
    from kiosk.config.overlay import with_applied_bundle

    local, local_catalogue = settings, default_catalogue()
    settings, signed_catalogue = with_applied_bundle(settings, data_dir)
    catalogue = signed_catalogue or local_catalogue
    try:
        devices = DeviceManager.from_config(settings.device_config(), data_dir)
    except ConfigError as exc:
        raise StartupError(str(exc)) from exc
    poster = MainThreadPoster()
    session = VisitSession(catalogue, settings.timeouts, default_language=settings.language)
    controller = VisitController(session, settings, devices, data_dir / "kiosk.db", poster.post)
    window.add_pages(catalogue, devices if simulate else None, devices.camera)
    diagnostics = DiagnosticsService(
        settings,
        devices,
        lambda: controller.store,
        lambda: controller.sync,
        controller.db,
        poster.post,
        simulate=simulate,
    )
    window.add_diagnostics(
        diagnostics,
        controller.suspend,
        controller.resume,
        taps=settings.diagnostics.entry_taps,
        window_seconds=settings.diagnostics.entry_window_seconds,
    )
    # A card laid on the reader while the PIN pad is up must not start a visit behind it.
    controller.cards_held = lambda: window.pin_pad is not None and window.pin_pad.isVisible()
    window.connect_controller(controller.dispatch)
    controller.add_view_listener(window.show_view)
    # Signed configuration from the platform is taken up here, between visits.
    live = LiveConfig(
        controller,
        local,
        local_catalogue,
        lambda new, cat: window.reconfigure(cat, look_of(new)),
        poster.post,
    )
    controller.config_take_up = live.take_up
    ticker = QTimer()
    ticker.timeout.connect(controller.tick)
    ticker.start(TICK_MS)
    from screens.voice import Voice

    voice = Voice()  # the engine opens on its own thread: nothing here waits for it
    window.attach_voice(voice)
    return KioskApp(window, controller, devices, poster, ticker, diagnostics, [voice.shutdown])


def build(settings: Settings, *, simulate: bool) -> KioskApp:
    """The whole terminal in one step (tests, rigs); ``controller.start()`` brings devices up."""
    return attach_backend(KioskWindow(look_of(settings)), settings, simulate=simulate)


class AfterFirstPaint(QObject):
    """Runs callbacks once *target* has painted its first frame."""

    def __init__(self, target: QObject, *callbacks: Callable[[], None]) -> None:
        super().__init__()
        self._target = target
        self._callbacks = callbacks
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._target.removeEventFilter(self)
            for callback in self._callbacks:
                QTimer.singleShot(0, callback)
        return False


def run(
    config_file: Path | None,
    data_dir: Path | None,
    *,
    simulate: bool,
    windowed: bool,
    verbose: bool = False,
) -> int:
    """Show the terminal until it is closed. Raises StartupError or SettingsError on bad setup."""
    ensure_display()
    app = qt_app()
    window = KioskWindow(first_look(config_file))
    if windowed:
        screen = app.primaryScreen().availableGeometry()
        window.resize(min(1920, screen.width()), min(1080, screen.height()))
        window.show()
    else:
        # Without a window manager (Xvfb, a bare kiosk session) the geometry must be set first.
        window.setGeometry(app.primaryScreen().geometry())
        window.lock_down()
        window.showFullScreen()

    started: list[KioskApp] = []
    failure: list[Exception] = []

    def leave() -> None:
        # Qt 6's quit() first asks every window to close, and a locked-down window refuses:
        # unlock it, or the terminal could never be stopped (systemd's SIGTERM included).
        window.unlock()
        app.quit()

    bench = bool(os.environ.get("KIOSK_BENCH_FIRST_PAINT"))

    def second_phase() -> None:
        if bench:
            # tests/benches/bench_startup.py: the wall-clock times of the first frame and of a
            # terminal ready for a resident, then quit.
            print(f"FIRST_PAINT {time.time():.6f}", flush=True)
        try:
            from kiosk.config.settings import data_dir_of, load_settings
            from kiosk.logs import setup_logging

            settings = load_settings(config_file, data_dir)
            setup_logging(data_dir_of(settings) / "logs", verbose=verbose)
            kiosk = attach_backend(window, settings, simulate=simulate)
        except Exception as exc:  # reported by the CLI as one line, exit code 1
            failure.append(exc)
            app.exit(1)
            return
        started.append(kiosk)
        kiosk.controller.start()
        if settings.central.url is None and settings.central.embedded and not bench:
            from kiosk.platform_link.embedded import EmbeddedCentral

            embedded = EmbeddedCentral(
                data_dir_of(settings), settings.central.kiosk_id, kiosk.controller.use_platform
            )
            embedded.start()
            kiosk.stoppers.append(embedded.stop)
        log.info("kiosk running (data dir %s)", data_dir_of(settings))
        if bench:
            print(f"READY {time.time():.6f}", flush=True)
            leave()

    hook = AfterFirstPaint(window.screens[State.ATTRACT], second_phase)
    # systemd stops the terminal with SIGTERM: leave the event loop so shutdown drains the
    # outbox worker. (Python runs the handler when the 250 ms ticker gives it control.)
    previous = {sig: signal.signal(sig, lambda *_: leave()) for sig in _STOP_SIGNALS}
    try:
        code = app.exec()
    finally:
        del hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        window.unlock()
        for kiosk in started:
            kiosk.shutdown()
    if failure:
        raise failure[0]
    return code


def gallery_views(language: str) -> list[tuple[str, VisitView]]:
    """One representative view per screen and outcome (plus warning and failure variants)."""
    from datetime import datetime

    from kiosk.visit.session import AnswerLine

    when = datetime(2026, 11, 23, 9, 41).astimezone()
    name = "张秀英"
    base = VisitView(State.ATTRACT, language, 1)
    person = replace(base, resident_name=name)
    ticket = replace(person, service="queue_ticket", action="ticket", option="social_security")
    query = replace(person, service="social_security", action="query")
    answer = (
        AnswerLine("参保状态", "Status", "正常参保" if language == "zh_CN" else "Insured"),
        AnswerLine("累计缴费月数", "Months paid", "186"),
        AnswerLine("最近缴费月份", "Last month paid", "2026-10"),
        AnswerLine("最近缴费金额", "Last amount", "1,286.40"),
    )
    result = replace(
        ticket, state=State.RESULT, outcome="ticket", ticket="A007", created_at=when,
        receipt="printed",
    )  # fmt: skip
    feedback = replace(base, service="feedback", action="feedback")
    return [
        ("attract", base),
        ("identify", replace(base, state=State.IDENTIFY)),
        ("identify-reading", replace(base, state=State.IDENTIFY, reading_card=True)),
        ("identify-failed", replace(base, state=State.IDENTIFY, notice_key="card.read_failed")),
        ("identify-either", replace(base, state=State.IDENTIFY, service="medical_insurance",
                                    identify_by=("social_security_card", "id_card"))),
        ("catalogue", replace(base, state=State.CATALOGUE)),
        ("catalogue-elder-suggested", replace(person, state=State.CATALOGUE, suggest_elder=True)),
        (
            "catalogue-unavailable",
            replace(
                person,
                state=State.CATALOGUE,
                unavailable={
                    "certificate": ("device.printer_paper_out", "alternative.staff"),
                    "social_security": ("service.needs_network", "alternative.staff"),
                    "application_progress": ("device.camera_unavailable", "alternative.staff"),
                    "appointment_checkin": ("device.camera_unavailable", "alternative.staff"),
                },
            ),
        ),
        ("scan", replace(base, state=State.SCAN, service="application_progress",
                         action="progress")),
        ("choose", replace(ticket, state=State.CHOOSE, option=None)),
        ("keypad-phone", replace(feedback, state=State.KEYPAD, keypad_kind="phone")),
        ("feedback", replace(feedback, state=State.FEEDBACK)),
        ("confirm", replace(ticket, state=State.CONFIRM)),
        ("confirm-query", replace(query, state=State.CONFIRM)),
        ("processing", replace(query, state=State.PROCESSING)),
        ("result", result),
        ("result-print-failed", replace(result, receipt="failed",
                                        receipt_key="device.printer_paper_out")),
        ("result-timeout-warning", replace(result, warning_seconds=17)),
        ("result-answer", replace(query, state=State.RESULT, outcome="answer", answer=answer,
                                  reference="Q20261123-4F2A9C01")),
        ("result-not-found", replace(query, state=State.RESULT, outcome="not_found",
                                     reason_key="answer.no_record")),
        ("result-offline-offer", replace(query, state=State.RESULT, outcome="offline_offer")),
        ("result-slip", replace(query, state=State.RESULT, outcome="slip", ticket="R0003",
                                created_at=when, receipt="printed")),
        ("result-staff", replace(base, state=State.RESULT, service="call_staff", outcome="staff",
                                 staff_called=True)),
        ("rating", replace(person, state=State.RATING)),
        ("problem", replace(base, state=State.PROBLEM, notice_key="problem.needs_network")),
        ("goodbye", replace(base, state=State.GOODBYE, end_reason="finished")),
        ("goodbye-timeout", replace(base, state=State.GOODBYE, end_reason="timeout")),
    ]  # fmt: skip


GALLERY_THEMES = {"normal": (False, False), "elder": (True, False), "contrast": (False, True)}


def render_gallery(settings: Settings, out_dir: Path) -> list[Path]:
    """Every screen in every theme and language, to ``out_dir/<screen>.<theme>.<language>.png``."""
    from kiosk.config.overlay import with_applied_bundle
    from kiosk.config.settings import data_dir_of
    from kiosk.config.shipped import default_catalogue
    from kiosk.texts import LANGUAGES

    app = qt_app()
    # What the terminal would show: the local configuration with any applied signed bundle.
    settings, signed = with_applied_bundle(settings, data_dir_of(settings))
    window = KioskWindow(look_of(settings))
    window.add_pages(signed or default_catalogue())
    # The panel's size, fixed: a page that does not fit is found by tests/qt/test_layout.py,
    # not hidden by a window that grows.
    window.setFixedSize(1920, 1080)
    window.show()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for theme_name, (elder, contrast) in GALLERY_THEMES.items():
        for language in LANGUAGES:
            for name, view in gallery_views(language):
                # Elder mode on, nobody is offered it again.
                suggest = view.suggest_elder and not elder
                themed = replace(view, elder=elder, contrast=contrast, suggest_elder=suggest)
                window.show_view(themed)
                app.processEvents()
                path = out_dir / f"{name}.{theme_name}.{language}.png"
                if not window.grab().save(str(path)):
                    raise OSError(f"cannot write {path}")
                written.append(path)
    window.close()
    return written
