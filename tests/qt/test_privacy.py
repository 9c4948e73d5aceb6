"""When a visit ends, for any reason, the resident's personal data is gone: from the screens, the
session, the camera's buffers and the print queue; and it never reached the logs or the
outbox in the clear. Driven through the real window, simulated devices and a real platform
process that answers the online query."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QWidget

from drivers.base import DeviceState
from drivers.camera import SimulatedCamera
from drivers.idcard import IdCard
from drivers.sim_cards import SAMPLE_CARDS
from kiosk.app import KioskApp
from kiosk.visit.session import State
from tests.platform_process import Platform, platform_process
from tests.qt.rig import started_kiosk, tap

RESIDENT = SAMPLE_CARDS[0]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with platform_process(tmp_path_factory.mktemp("central"), kiosk_id="kiosk-privacy") as p:
        yield p


@pytest.fixture
def kiosk(qtbot: QtBot, tmp_path: Path, platform: Platform) -> Iterator[KioskApp]:
    app = started_kiosk(qtbot, tmp_path / "data", platform.url, platform.token, platform.kiosk_id)
    yield app
    app.shutdown()


def every_text(window: QWidget) -> str:
    texts = [w.text() for w in window.findChildren(QLabel) + window.findChildren(QPushButton)]
    texts += [w.toPlainText() for w in window.findChildren(QPlainTextEdit)]
    return "\n".join(texts)


def secrets_of(kiosk: KioskApp) -> list[str]:
    """What must not outlive the visit: the card's fields and what the platform answered."""
    answer = kiosk.controller.session.view().answer
    values = [line.value for line in answer if len(line.value) >= 4]
    assert values, "the platform's answer should have been on screen"
    return [RESIDENT.name, RESIDENT.id_number, RESIDENT.address, *values]


def cards_alive() -> list[IdCard]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, IdCard) and o.name == RESIDENT.name]


def assert_forgotten(kiosk: KioskApp, secrets: list[str], data: Path, before: list[IdCard]) -> None:
    window, controller = kiosk.window, kiosk.controller
    # The screens: every page was re-rendered with the empty visit.
    shown = every_text(window)
    for secret in secrets:
        assert secret not in shown, "a screen still shows the resident's data"
    # The session objects.
    assert not controller.session.holds_personal_data
    view = controller.session.view()
    assert view.resident_name is None and view.answer == () and view.entered == ""
    # The card read during this visit is gone; what was alive before (the simulator's deck,
    # earlier tests' leftovers) is not this visit's business.
    new = [c for c in cards_alive() if not any(c is old for old in before)]
    assert new == [], [type(r).__name__ for c in new for r in gc.get_referrers(c)]
    # The print queue: nothing waiting to go to paper.
    assert kiosk.controller.printer_worker._pool._work_queue.empty()
    # The logs and the outbox never held it in the clear.
    log_text = (data / "logs" / "kiosk.jsonl").read_text() if (data / "logs").exists() else ""
    db = (data / "kiosk.db").read_bytes() + (
        (data / "kiosk.db-wal").read_bytes() if (data / "kiosk.db-wal").exists() else b""
    )
    for secret in secrets:
        assert secret not in log_text
        assert secret.encode() not in db


def test_a_record_query_leaves_nothing_behind(
    qtbot: QtBot, kiosk: KioskApp, tmp_path: Path, artifacts: Path
) -> None:
    window, controller = kiosk.window, kiosk.controller
    data = tmp_path / "data"
    before = cards_alive()
    tap(qtbot, window, "startButton")
    tap(qtbot, window, "service_social_security")
    tap(qtbot, window, "simPresentCard")
    qtbot.waitUntil(lambda: controller.session.state is State.CONFIRM, timeout=5000)
    tap(qtbot, window, "confirmButton")
    qtbot.waitUntil(lambda: controller.session.state is State.RESULT, timeout=10000)
    assert controller.session.view().outcome == "answer"
    secrets = secrets_of(kiosk)
    assert any(secrets[-1] in t for t in [every_text(window)])  # it was really on screen
    (artifacts / "privacy").mkdir(parents=True, exist_ok=True)
    window.grab().save(str(artifacts / "privacy" / "answer.png"))
    tap(qtbot, window, "printAnswer")
    qtbot.waitUntil(lambda: controller.session.view().receipt == "printed", timeout=10000)
    tap(qtbot, window, "exitButton")  # the resident leaves
    assert controller.session.state is State.GOODBYE
    assert_forgotten(kiosk, secrets, data, before)


def test_a_timeout_mid_visit_leaves_nothing_behind(
    qtbot: QtBot, kiosk: KioskApp, tmp_path: Path
) -> None:
    window, controller = kiosk.window, kiosk.controller
    before = cards_alive()
    tap(qtbot, window, "startButton")
    tap(qtbot, window, "service_housing_fund")
    tap(qtbot, window, "simPresentCard")
    qtbot.waitUntil(lambda: controller.session.state is State.CONFIRM, timeout=5000)
    tap(qtbot, window, "confirmButton")
    qtbot.waitUntil(lambda: controller.session.state is State.RESULT, timeout=10000)
    secrets = secrets_of(kiosk)
    controller.session._deadline = 0.0  # the resident walked away: the step's time is up
    controller.tick()
    assert controller.session.view().end_reason == "timeout"
    assert_forgotten(kiosk, secrets, tmp_path / "data", before)


def test_a_scanned_code_and_the_camera_picture_are_dropped(
    qtbot: QtBot, kiosk: KioskApp, tmp_path: Path
) -> None:
    window, controller = kiosk.window, kiosk.controller
    camera = kiosk.devices.camera
    assert isinstance(camera, SimulatedCamera)
    qtbot.waitUntil(lambda: camera.status.state is DeviceState.READY, timeout=10000)
    tap(qtbot, window, "startButton")
    tap(qtbot, window, "service_application_progress")
    assert controller.session.state is State.SCAN
    preview = window.screens[State.SCAN].preview  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: preview.frames_painted > 0, timeout=10000)
    tap(qtbot, window, "simShowReceiptQr")
    qtbot.waitUntil(lambda: controller.session.state is State.RESULT, timeout=15000)
    assert controller.session.view().outcome == "answer"
    secrets = [v.value for v in controller.session.view().answer if len(v.value) >= 4]
    tap(qtbot, window, "exitButton")
    assert controller._scanner is None  # the decoder is gone with the step
    assert preview._picture is None and preview._pending is None  # no frame kept on screen
    for secret in secrets:
        assert secret not in every_text(window)
