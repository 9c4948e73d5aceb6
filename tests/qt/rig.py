"""The whole terminal on simulated devices, shown on the offscreen panel and synced to a given
platform, for the Qt tests that drive services by touch; and the touch itself."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

from drivers.base import DeviceState
from kiosk.app import KioskApp, build, qt_app
from kiosk.config.settings import Settings, Timeouts, load_settings


def started_kiosk(
    qtbot: QtBot, data: Path, url: str, token: str, kiosk_id: str, *, timeout: float = 10
) -> KioskApp:
    """Built, shown at 1920x1080 and started; the ID card reader ready. Shut it down after."""
    qt_app()
    st = load_settings(data_dir=data)
    central = st.central.model_copy(update={"url": url, "token": token, "kiosk_id": kiosk_id,
                                            "timeout": timeout})  # fmt: skip
    settings: Settings = st.model_copy(update={"central": central,
                                               "timeouts": Timeouts(goodbye=2)})  # fmt: skip
    app = build(settings, simulate=True)
    qtbot.addWidget(app.window)
    app.window.resize(1920, 1080)
    app.window.show()
    app.controller.start()
    reader = app.devices.id_card_reader
    assert reader is not None
    qtbot.waitUntil(lambda: reader.status.state is DeviceState.READY, timeout=5000)
    return app


def tap(qtbot: QtBot, window: QWidget, name: str) -> None:
    btn = window.findChild(QPushButton, name)
    assert btn is not None, name
    # Availability follows device and platform states, which settle just after start.
    qtbot.waitUntil(lambda: btn.isVisible() and btn.isEnabled(), timeout=5000)
    qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)
