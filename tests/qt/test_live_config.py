"""A signed configuration taken up by the running terminal: it waits for the visit in progress
to end, then the catalogue, centre name and timeouts change without a restart; one that fails
the health check is taken down again and rolled back. Screens go to test-artifacts/live-config/."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtWidgets import QPushButton

from contracts.payload import SCHEMA_VERSION
from contracts.signing import generate, load_private, sign
from kiosk.app import KioskApp, build, qt_app
from kiosk.config.settings import Settings, Timeouts, load_settings
from kiosk.config.updater import ConfigUpdater
from kiosk.visit.session import Cancel, Start, State

ROOT = Path(__file__).parents[2]
CATALOGUE = json.loads((ROOT / "kiosk" / "config" / "catalogue.json").read_text())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    trusted = data / "keys" / "config-trust"
    trusted.mkdir(parents=True)
    for name in ("alice", "bob"):
        generate(tmp_path / "operator", name)
        (trusted / f"{name}.pub").write_text((tmp_path / "operator" / f"{name}.pub").read_text())
    (trusted / "threshold").write_text("2\n")
    st = load_settings(data_dir=data)
    return st.model_copy(update={"timeouts": Timeouts(goodbye=2)})


@pytest.fixture
def kiosk(qtbot: QtBot, settings: Settings) -> Iterator[KioskApp]:
    qt_app()
    app = build(settings, simulate=True)
    qtbot.addWidget(app.window)
    app.window.resize(1920, 1080)
    app.window.show()
    app.controller.start()
    yield app
    app.shutdown()


def signed_bundle(operator: Path, version: int, payload: dict[str, Any]) -> bytes:
    now = datetime.now().astimezone()
    signed = {
        "version": version,
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(days=7)).isoformat(),
        "targets": {"kiosks": [], "groups": ["hepingli"]},
        "payload": {"schema_version": SCHEMA_VERSION, **payload},
    }
    sigs = [sign(signed, load_private(operator / f"{n}.key")) for n in ("alice", "bob")]
    return json.dumps({"signed": signed, "signatures": sigs}).encode()


def offer_from_sync_thread(kiosk: KioskApp, data: Path, raw: bytes) -> ConfigUpdater:
    """What the sync worker does with a fetched bundle, on a thread of its own."""
    # The terminal's own updater looks for a bundle left waiting by a restart when its sync
    # worker is made: let that happen first, as it does long before any bundle arrives.
    deadline = time.monotonic() + 10
    while kiosk.controller.sync is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert kiosk.controller.sync is not None
    updater = ConfigUpdater(
        data, "kiosk-dev-001", frozenset({"hepingli"}),
        take_up=kiosk.controller._take_up_config, trusted=data / "keys" / "config-trust",
    )  # fmt: skip
    reports: list[dict[str, Any]] = []
    worker = threading.Thread(target=lambda: reports.append(updater.offer(raw)))
    worker.start()
    worker.join(timeout=10)
    assert reports and reports[0]["status"] == "applied", reports
    return updater


def option_buttons(kiosk: KioskApp) -> list[str]:
    page = kiosk.window.screens[State.CHOOSE]
    return sorted(b.objectName() for b in page.findChildren(QPushButton))


def queue_ticket(catalogue: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in catalogue["services"] if s["code"] == "queue_ticket")


QUEUE_OPTIONS = [
    "option_general", "option_housing_fund", "option_medical_insurance", "option_social_security"
]  # fmt: skip


def test_taken_up_between_visits_without_a_restart(
    qtbot: QtBot, kiosk: KioskApp, settings: Settings, tmp_path: Path, artifacts: Path
) -> None:
    shots = artifacts / "live-config"
    shots.mkdir(parents=True, exist_ok=True)
    controller, window = kiosk.controller, kiosk.window
    data = Path(str(settings.data_dir))
    two_windows = json.loads(json.dumps(CATALOGUE))
    queue_ticket(two_windows)["options"] = queue_ticket(two_windows)["options"][:2]
    raw = signed_bundle(tmp_path / "operator", 1, {
        "centre": {"name_zh": "安贞社区服务中心", "name_en": "Anzhen Community Service Centre"},
        "timeouts": {"identify": 100},
        "catalogue": two_windows,
    })  # fmt: skip

    controller.dispatch(Start())  # a resident is at the terminal
    assert controller.session.state is State.CATALOGUE
    updater = offer_from_sync_thread(kiosk, data, raw)
    qtbot.wait(600)  # ticks and view updates pass: still the old configuration mid-visit
    assert window.header.title.text() == "和平里社区服务中心"
    assert controller.session.timeouts.identify == 90
    assert set(QUEUE_OPTIONS) <= set(option_buttons(kiosk))
    assert updater.due_report() is None

    controller.dispatch(Cancel())  # the visit ends; after the goodbye, the attract screen
    qtbot.waitUntil(lambda: updater.due_report() is not None, timeout=8000)
    assert controller.session.state is State.ATTRACT
    assert updater.due_report() == {"version": 1, "running": 1, "status": "applied", "reason": ""}
    assert window.header.title.text() == "安贞社区服务中心"
    assert controller.session.timeouts.identify == 100
    assert controller.settings.centre.name_en == "Anzhen Community Service Centre"
    assert not set(QUEUE_OPTIONS[:2]) & set(option_buttons(kiosk))
    assert set(QUEUE_OPTIONS[2:]) <= set(option_buttons(kiosk))
    assert window.grab().save(str(shots / "taken-up-attract.png"))


def test_an_unhealthy_configuration_is_taken_down_and_rolled_back(
    qtbot: QtBot, settings: Settings, tmp_path: Path
) -> None:
    # A terminal without a camera is sent a catalogue that only scans QR codes.
    qt_app()
    no_camera = {
        k: v for k, v in settings.devices.items() if k in ("id_card_reader", "receipt_printer")
    }
    kiosk = build(settings.model_copy(update={"devices": no_camera}), simulate=False)
    qtbot.addWidget(kiosk.window)
    kiosk.controller.start()
    try:
        controller, window = kiosk.controller, kiosk.window
        data = Path(str(settings.data_dir))
        scanning = {"services": [
            {"code": "appointment_checkin", "name": {"zh_CN": "预约签到", "en": "Check-in"},
             "steps": ["scan"], "action": "checkin", "query": "appointment_checkin"},
        ]}  # fmt: skip
        raw = signed_bundle(tmp_path / "operator", 1, {
            "centre": {"name_zh": "坏配置", "name_en": "Broken"}, "catalogue": scanning,
        })  # fmt: skip
        updater = offer_from_sync_thread(kiosk, data, raw)  # idle: taken up at once
        qtbot.waitUntil(lambda: updater.due_report() is not None, timeout=5000)
        report = updater.due_report()
        assert report is not None and report["status"] == "rolled_back", report
        assert "no service in the catalogue can run" in report["reason"]
        assert updater.store.state().current is None  # back to the local configuration
        assert window.header.title.text() == "和平里社区服务中心"
        assert controller.session.catalogue.get("queue_ticket") is not None
        assert set(QUEUE_OPTIONS) <= set(option_buttons(kiosk))
        # And the terminal still serves residents.
        controller.dispatch(Start())
        assert controller.session.state is State.CATALOGUE
    finally:
        kiosk.shutdown()
