"""The systemd watchdog for a hung terminal: ``WATCHDOG=1`` from a timer on the Qt main thread,
sent only while the event loop turns (the timer fires) and no supervised worker (devices, sync,
camera, voice) has lost its thread. A blocked main thread or a broken supervisor stops the pings,
and systemd restarts the unit after WatchdogSec (deploy/ has the unit).

``KIOSK_DEBUG_HANG_FILE``: while that file exists, the timer's tick blocks the main thread, as a
hung paint or a deadlock would. It is for the watchdog's own test and a technician's drill; an
unset variable costs nothing.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from runtime.sd_notify import notify, watchdog_seconds
from runtime.supervisor import WORKERS, Registry

log = logging.getLogger(__name__)

HANG_FILE_ENV = "KIOSK_DEBUG_HANG_FILE"


class Watchdog(QObject):
    """Pings systemd at a third of its period while the terminal is alive; does nothing when
    the unit has no watchdog."""

    def __init__(self, registry: Registry = WORKERS, period: float | None = None) -> None:
        super().__init__()
        self._registry = registry
        self.period = period if period is not None else watchdog_seconds()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._withheld: tuple[str, ...] = ()
        hang = os.environ.get(HANG_FILE_ENV)
        self._hang_file = Path(hang) if hang else None

    def start(self) -> None:
        if self.period is None:
            return
        self._timer.start(max(100, int(self.period * 1000 / 3)))
        self._tick()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        if self._hang_file is not None:
            while self._hang_file.exists():  # the drill: the main thread stops here
                time.sleep(0.05)
        dead = tuple(self._registry.dead())
        if dead != self._withheld:
            self._withheld = dead
            if dead:
                log.error("watchdog: worker thread gone (%s): pings withheld", ", ".join(dead))
                notify(f"STATUS=worker thread gone: {', '.join(dead)}; restart expected")
            else:
                notify("STATUS=running")
        if not dead:
            notify("WATCHDOG=1")
