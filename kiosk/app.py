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
from dataclasses import dataclass, field
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
from kiosk.visit.view import State
from runtime.display_scale import fit_to_screen, fitted
from runtime.memory import limit_malloc_arenas
from runtime.sd_notify import notify
from screens import theme
from screens.main_window import KioskWindow

if TYPE_CHECKING:
    from drivers.manager import DeviceManager
    from kiosk.config.settings import Settings
    from kiosk.technician.mode import DiagnosticsService
    from kiosk.visit.controller import VisitController
    from screens.bridge import MainThreadPoster

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
    limit_malloc_arenas()  # before any worker thread starts: runtime/memory.py says why
    qInstallMessageHandler(_qt_message)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        fit_to_screen()  # read by Qt as the application is made: runtime/display_scale.py
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
    from screens.bridge import MainThreadPoster  # after the first frame: Qt signals cost

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
        window.setMaximumSize(screen.size())
        window.show()
    else:
        # Without a window manager (Xvfb, a bare kiosk session) the geometry must be set first.
        geometry = app.primaryScreen().geometry()
        window.setGeometry(geometry)
        window.setFixedSize(geometry.size())  # the screen, always: nothing inside can grow it
        window.lock_down()
        window.showFullScreen()

    started: list[KioskApp] = []
    failure: list[Exception] = []
    probes: list[object] = []

    def leave() -> None:
        notify("STOPPING=1")
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
            if scaled := fitted():
                log.info("%s", scaled)
            kiosk = attach_backend(window, settings, simulate=simulate)
            from kiosk.technician.worker_file import keep_worker_file

            keep_worker_file(data_dir_of(settings))  # for `kiosk diag devices` from a shell
        except Exception as exc:  # reported by the CLI as one line, exit code 1
            failure.append(exc)
            app.exit(1)
            return
        started.append(kiosk)
        if os.environ.get("KIOSK_WIDGET_PROBE"):  # a rig outside asks where things are
            from screens.probe import install_probe

            probes.append(install_probe(window))
        if os.environ.get("KIOSK_LAYOUT_AUDIT"):  # the real-window tests: what is cut off
            from screens.layout_audit import install_live_audit

            window.live_audit = install_live_audit(window)
        kiosk.controller.start()
        central = (settings.simulated() if simulate else settings).central
        if central.url is None and central.embedded and not bench:
            from kiosk.platform_link.embedded import EmbeddedCentral

            embedded = EmbeddedCentral(
                data_dir_of(settings), settings.central.kiosk_id, kiosk.controller.use_platform
            )
            embedded.start()
            kiosk.stoppers.append(embedded.stop)
        elif central.url is None:
            log.warning(
                "no platform configured ([central] url): working offline, transactions wait in "
                "the outbox (set [central] embedded = true for a platform on this machine)"
            )
        log.info("kiosk running (data dir %s)", data_dir_of(settings))
        from kiosk.watchdog import Watchdog

        watchdog = Watchdog()
        watchdog.start()
        kiosk.stoppers.append(watchdog.stop)
        notify("READY=1", "STATUS=running")  # the attract screen is painted, the devices start
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
