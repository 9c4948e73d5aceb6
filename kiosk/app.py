"""The composition root: the one place that builds devices, storage, the controller and the window.

Everything slow (opening devices, the database) starts after the first frame is on screen, so the
terminal shows its attract screen quickly and never waits on hardware to paint.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from drivers.manager import DeviceManager
from kiosk.catalogue import default_catalogue
from kiosk.session import VisitSession, VisitView
from kiosk.settings import Settings, data_dir_of
from kiosk.visit import VisitController
from screens import theme
from screens.bridge import MainThreadPoster
from screens.main_window import KioskWindow

log = logging.getLogger(__name__)

TICK_MS = 250


class DisplayError(Exception):
    """There is no screen to show the terminal on."""


@dataclass
class KioskApp:
    window: KioskWindow
    controller: VisitController
    devices: DeviceManager
    poster: MainThreadPoster
    ticker: QTimer

    def shutdown(self) -> None:
        self.ticker.stop()
        self.controller.shutdown()


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


def qt_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setFont(QFont(theme.FONT_FAMILY, 16))
    return app


def build(settings: Settings, *, simulate: bool) -> KioskApp:
    """Build the terminal; ``controller.start()`` (or ``run``) then brings the devices up."""
    data_dir = data_dir_of(settings)
    data_dir.mkdir(parents=True, exist_ok=True)
    if simulate:
        settings = settings.simulated()
    catalogue = default_catalogue()
    devices = DeviceManager.from_config(settings.device_config(), data_dir)
    poster = MainThreadPoster()
    session = VisitSession(catalogue, settings.timeouts, default_language=settings.language)
    controller = VisitController(session, settings, devices, data_dir / "kiosk.db", poster.post)
    window = KioskWindow(
        controller.dispatch, catalogue, settings.centre, devices if simulate else None
    )
    controller.add_view_listener(window.show_view)
    ticker = QTimer()
    ticker.timeout.connect(controller.tick)
    ticker.start(TICK_MS)
    return KioskApp(window, controller, devices, poster, ticker)


class _FirstPaint(QObject):
    """Reports the wall-clock time of the first painted attract screen (for the startup bench)."""

    def __init__(self, target: QObject) -> None:
        super().__init__()
        self._done = False
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._done:
            self._done = True
            QTimer.singleShot(0, self._report)
        return False

    def _report(self) -> None:
        print(f"FIRST_PAINT {time.time():.6f}", flush=True)
        QApplication.quit()


def run(settings: Settings, *, simulate: bool, windowed: bool) -> int:
    ensure_display()
    app = qt_app()
    kiosk = build(settings, simulate=simulate)
    window = kiosk.window
    bench = (
        _FirstPaint(window.screens[next(iter(window.screens))])
        if os.environ.get("KIOSK_BENCH_FIRST_PAINT")
        else None
    )
    if windowed:
        screen = app.primaryScreen().availableGeometry()
        window.resize(min(1920, screen.width()), min(1080, screen.height()))
        window.show()
    else:
        # Without a window manager (Xvfb, a bare kiosk session) the geometry must be set first.
        window.setGeometry(app.primaryScreen().geometry())
        window.showFullScreen()
    # Devices and the database come up once the event loop runs: the first frame never waits.
    QTimer.singleShot(0, kiosk.controller.start)
    log.info("kiosk running (data dir %s)", data_dir_of(settings))
    try:
        return app.exec()
    finally:
        del bench
        kiosk.shutdown()


def gallery_views(settings: Settings) -> list[tuple[str, VisitView]]:
    """One representative view per screen (plus the warning and failure variants)."""
    from datetime import datetime

    from kiosk.session import State

    when = datetime(2026, 11, 23, 9, 41).astimezone()
    name = "张秀英"
    base = VisitView(State.ATTRACT, settings.language, 1)
    views = [
        ("attract", base),
        ("identify", replace(base, state=State.IDENTIFY)),
        ("identify-reading", replace(base, state=State.IDENTIFY, reading_card=True)),
        ("identify-failed", replace(base, state=State.IDENTIFY, notice_key="card.read_failed")),
        ("catalogue", replace(base, state=State.CATALOGUE, resident_name=name)),
        (
            "catalogue-unavailable",
            replace(
                base,
                state=State.CATALOGUE,
                resident_name=name,
                unavailable={"queue_ticket": "device.reader_unavailable"},
            ),
        ),
        ("choose", replace(base, state=State.CHOOSE, resident_name=name, service="queue_ticket")),
        (
            "confirm",
            replace(
                base,
                state=State.CONFIRM,
                resident_name=name,
                service="queue_ticket",
                option="social_security",
            ),
        ),
        ("processing", replace(base, state=State.PROCESSING, resident_name=name)),
    ]
    result = replace(
        base,
        state=State.RESULT,
        resident_name=name,
        service="queue_ticket",
        option="social_security",
        ticket="A007",
        created_at=when,
        receipt="printed",
    )
    views += [
        ("result", result),
        (
            "result-print-failed",
            replace(result, receipt="failed", receipt_key="device.printer_paper_out"),
        ),
        ("result-timeout-warning", replace(result, warning_seconds=17)),
        ("rating", replace(base, state=State.RATING, resident_name=name)),
        ("problem", replace(base, state=State.PROBLEM, notice_key="problem.record_failed")),
        ("goodbye", replace(base, state=State.GOODBYE, end_reason="finished")),
        ("goodbye-timeout", replace(base, state=State.GOODBYE, end_reason="timeout")),
    ]
    return views


def render_gallery(settings: Settings, out_dir: Path) -> list[Path]:
    """Render every screen in every language to ``out_dir/<language>/<screen>.png``."""
    from kiosk.texts import LANGUAGES

    app = qt_app()
    window = KioskWindow(lambda event: None, default_catalogue(), settings.centre)
    window.resize(1920, 1080)
    window.show()
    written = []
    for language in LANGUAGES:
        (out_dir / language).mkdir(parents=True, exist_ok=True)
        for name, view in gallery_views(settings):
            window.show_view(replace(view, language=language))
            app.processEvents()
            path = out_dir / language / f"{name}.png"
            if not window.grab().save(str(path)):
                raise OSError(f"cannot write {path}")
            written.append(path)
    window.close()
    return written
