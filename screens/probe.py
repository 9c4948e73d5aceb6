"""Where things are on the screen, for a rig outside the process: a JSON file with the visit's
state and the screen rectangle of every visible named widget, rewritten when it changes.

A rig (tests/e2e, kiosk rig) touches the terminal only through the X server, as a person would;
this tells it where to touch. Enabled by ``KIOSK_WIDGET_PROBE=FILE``; it is off on a terminal.
Nothing personal is written: object names, rectangles, the state and the visit's look only.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, QTimer
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from screens.main_window import KioskWindow

PROBE_MS = 100
log = logging.getLogger(__name__)


class WidgetProbe(QObject):
    def __init__(self, window: KioskWindow, path: Path) -> None:
        super().__init__(window)
        self._window, self._path = window, path
        self._last = ""
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.write)
        self._timer.start(PROBE_MS)

    def snapshot(self) -> dict[str, Any]:
        window = self._window
        widgets: dict[str, list[int]] = {}
        disabled: list[str] = []
        for widget in [window, *window.findChildren(QWidget)]:
            name = widget.objectName()
            if not name or not widget.isVisible() or name in widgets:
                continue
            corner = widget.mapToGlobal(QPoint(0, 0))
            widgets[name] = [corner.x(), corner.y(), widget.width(), widget.height()]
            if not widget.isEnabled():
                disabled.append(name)
        view = window.view
        screen = QApplication.primaryScreen().geometry()
        return {
            "state": view.state.value if view else None,
            "elder": bool(view and view.elder),
            "contrast": bool(view and view.contrast),
            "language": view.language if view else None,
            "screen": [screen.x(), screen.y(), screen.width(), screen.height()],
            "widgets": widgets,
            "disabled": sorted(disabled),  # visible but greyed: a touch does nothing
        }

    def write(self) -> None:
        text = json.dumps(self.snapshot(), sort_keys=True)
        if text == self._last:
            return
        tmp = self._path.with_name(f".{self._path.name}.tmp")
        try:
            tmp.write_text(text, "utf-8")
            os.replace(tmp, self._path)  # a reader sees the old picture or the new, never half
        except OSError as exc:  # a rig's mistake must not become a traceback every 100 ms
            log.error("widget probe stopped: cannot write %s: %s", self._path, exc)
            self._timer.stop()
            return
        self._last = text


def install_probe(window: KioskWindow) -> WidgetProbe | None:
    """The probe of ``KIOSK_WIDGET_PROBE``, if that is set."""
    path = os.environ.get("KIOSK_WIDGET_PROBE")
    return WidgetProbe(window, Path(path)) if path else None
