"""The technician's pages as a technician reads them: self-test results in the terminal's
language, the network self-test against the platform the terminal syncs to (the embedded one
included), dates and times in the local zone and the language's format, a scroll bar a finger
can use, and the speech engine listed with its state. Pages are saved under
test-artifacts/technician-pages/."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QScrollArea, QWidget

from drivers.receipt_printer import SimulatedReceiptPrinter
from kiosk.app import KioskApp
from kiosk.config.settings import Settings, load_settings
from kiosk.logs import setup_logging
from kiosk.platform_link.embedded import EmbeddedCentral
from screens.voice import ENGINE_ENV
from tests.qt.test_diagnostics_mode import english, enter_mode, make_kiosk
from tests.qt.test_visit import Shots, find, tap

ISO = re.compile(r"\d{4}-\d\d-\d\d")
ZH_TIME = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d")
EN_TIME = re.compile(r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")  # "GB" and "640x480" aside, no English in Chinese


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def kiosk(qtbot: QtBot, settings: Settings) -> Iterator[KioskApp]:
    app = make_kiosk(qtbot, settings)
    yield app
    app.shutdown()


@pytest.fixture
def shots(kiosk: KioskApp, artifacts: Path) -> Shots:
    return Shots(artifacts / "technician-pages", kiosk.window)


def result_of(qtbot: QtBot, window: QWidget, name: str, timeout: int = 20000) -> str:
    """Touch a self-test's button and read what it found once it has finished."""
    tap(qtbot, window, f"selftest_{name}")
    result = find(window, QLabel, f"selftestResult_{name}")
    qtbot.waitUntil(lambda: result.property("verdict") in ("pass", "fail", "skip"), timeout=timeout)
    assert result.isVisible()
    return str(result.text())


def card_text(window: QWidget, name: str) -> str:
    card = find(window, QLabel, f"device_{name}")
    assert card.isVisible()
    return str(card.text())


# -- self-test results in the terminal's language -----------------------------------------------
def test_self_test_results_read_in_chinese_then_in_english(
    qtbot: QtBot, kiosk: KioskApp, shots: Shots
) -> None:
    window = kiosk.window
    enter_mode(qtbot, kiosk)  # the terminal's language: Chinese
    tap(qtbot, window, "diagNav_selftests")
    disk = result_of(qtbot, window, "disk")
    camera = result_of(qtbot, window, "camera")
    outbox = result_of(qtbot, window, "outbox")
    shots("selftests-zh")
    assert disk.startswith("通过 — 磁盘正常：剩余 "), disk
    assert camera.startswith("通过 — 摄像头正常：每秒 "), camera
    assert re.search(r"，\d+ 张人脸，(没有二维码|\d+ 个二维码) ", camera), camera
    assert outbox.startswith("通过 — 待发送队列正常：数据库完好，"), outbox
    assert "条被平台拒绝" in outbox and outbox.endswith(" 秒）")
    for text in (disk, camera, outbox):
        assert not ENGLISH_WORD.search(text), text

    english(qtbot, window)  # the same results, now in English
    disk = str(find(window, QLabel, "selftestResult_disk").text())
    camera = str(find(window, QLabel, "selftestResult_camera").text())
    shots("selftests-en")
    assert disk.startswith("PASS — disk ok: ") and " free of " in disk, disk
    assert camera.startswith("PASS — camera ok: "), camera
    assert re.search(r", \d+ faces?, (no QR code|\d+ QR codes?) ", camera), camera
    assert disk.endswith(" s)")


# -- the network self-test checks the platform the terminal syncs to -----------------------------
def test_the_network_self_test_checks_the_embedded_platform(
    qtbot: QtBot, kiosk: KioskApp, settings: Settings, shots: Shots
) -> None:
    """No [central] url, simulated: the terminal syncs to the platform it embeds, and the network
    self-test checks that one (not "skipped")."""
    window = kiosk.window
    central = kiosk.controller.settings.central  # the simulated terminal's: embedded on
    assert central.url is None and central.embedded
    enter_mode(qtbot, kiosk)
    tap(qtbot, window, "diagNav_selftests")
    down = result_of(qtbot, window, "network")
    assert down == "未通过 — 平台：内置平台没有运行（请查看日志） （0.0 秒）", down

    embedded = EmbeddedCentral(
        Path(str(settings.data_dir)), settings.central.kiosk_id, kiosk.controller.use_platform
    )
    embedded.start()  # as kiosk.app starts it after the first frame
    try:
        sync = kiosk.controller.sync
        assert sync is not None
        qtbot.waitUntil(lambda: sync.client is not None, timeout=30000)
        up = result_of(qtbot, window, "network")
        shots("network-embedded")
    finally:
        embedded.stop()
    assert re.fullmatch(
        r"通过 — 内置平台连接正常（\d+ 毫秒），时钟误差在 [\d.]+ 秒以内，令牌有效 （[\d.]+ 秒）", up
    ), up


# -- dates and times -----------------------------------------------------------------------------
@pytest.fixture
def beijing_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The terminal's zone is not UTC (POSIX "CST-8" is UTC+8, no tz database needed)."""
    monkeypatch.setenv("TZ", "CST-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_dates_and_times_are_local_and_in_the_language(
    qtbot: QtBot, beijing_time: None, settings: Settings, artifacts: Path
) -> None:
    data_dir = Path(str(settings.data_dir))
    setup_logging(data_dir / "logs")
    kiosk = make_kiosk(qtbot, settings)
    try:
        window = kiosk.window
        shot = Shots(artifacts / "technician-pages-times", window)
        printer = kiosk.devices.receipt_printer
        assert isinstance(printer, SimulatedReceiptPrinter)
        printer.inject("paper_out")
        qtbot.waitUntil(lambda: printer.status.fault is not None, timeout=5000)
        enter_mode(qtbot, kiosk)
        now = datetime.now().astimezone()
        assert now.utcoffset() is not None and now.utcoffset().total_seconds() == 8 * 3600
        today = f"{now.year}年{now.month}月{now.day}日 "
        card = card_text(window, "receipt_printer")
        shot("devices-zh")
        assert f"自 {today}" in card and f"最近故障：缺纸（paper_out），{today}" in card, card
        assert len(ZH_TIME.findall(card)) == 2 and not ISO.search(card), card

        tap(qtbot, window, "diagNav_logs")
        logs = find(window, QPlainTextEdit, "logsText")
        qtbot.waitUntil(lambda: "paper_out" in logs.toPlainText(), timeout=5000)
        first = logs.toPlainText().splitlines()[0]
        assert re.match(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d ", first), first
        assert not ISO.search(logs.toPlainText())

        english(qtbot, window)
        tap(qtbot, window, "diagNav_devices")
        card = card_text(window, "receipt_printer")
        shot("devices-en")
        assert len(EN_TIME.findall(card)) == 2 and not ISO.search(card), card
        assert f"Since {now.day} " in card
    finally:
        kiosk.shutdown()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if type(h).__module__ == "kiosk.logs"]:
            root.removeHandler(handler)
            handler.close()


# -- a scroll bar a finger can use ---------------------------------------------------------------
def _scroll_area(widget: QWidget) -> QScrollArea:
    parent = widget.parentWidget()
    while not isinstance(parent, QScrollArea):
        assert parent is not None
        parent = parent.parentWidget()
    return parent


def test_a_finger_scrolls_a_long_page_by_its_wide_bar_or_by_dragging_the_page(
    qtbot: QtBot, kiosk: KioskApp, shots: Shots
) -> None:
    window = kiosk.window
    enter_mode(qtbot, kiosk)
    area = _scroll_area(find(window, QLabel, "device_receipt_printer"))
    bar = area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=3000)  # five cards: more than a page
    shots("devices-scroll-bar")
    assert bar.isVisible()
    assert bar.width() >= 48 and bar.height() > 300

    # A finger on the bar's handle (at its top), pulled down: the page follows.
    finger = QPoint(bar.width() // 2, 40)
    QTest.mousePress(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, finger)
    for _ in range(10):
        finger += QPoint(0, 20)
        QTest.mouseMove(bar, finger)
        qtbot.wait(10)
    QTest.mouseRelease(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, finger)
    assert bar.value() > 100

    # Dragging the page itself still scrolls it: down by 200 px, the page comes 200 px back.
    before = bar.value()
    viewport = area.viewport()
    finger = QPoint(viewport.width() // 2, 100)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, finger)
    for _ in range(10):
        finger += QPoint(0, 20)
        QTest.mouseMove(viewport, finger)
        qtbot.wait(16)  # the scroller moves the page on its own timer, as a finger moves
    moved = before - bar.value()
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, finger)
    assert 150 <= moved <= 200, moved


# -- the speech engine, listed with the devices and among the self-tests -------------------------
def test_the_voice_is_listed_working_with_its_engine(
    qtbot: QtBot, kiosk: KioskApp, shots: Shots
) -> None:
    window = kiosk.window
    voice = kiosk.window.voice
    assert voice is not None
    qtbot.waitUntil(lambda: voice.engine_name is not None, timeout=5000)
    enter_mode(qtbot, kiosk)
    qtbot.waitUntil(lambda: window.findChild(QLabel, "device_speech") is not None, timeout=3000)
    assert card_text(window, "speech").splitlines() == ["语音播报  ·  正常", "语音引擎 mock"]
    tap(qtbot, window, "diagNav_selftests")
    assert result_of(qtbot, window, "voice").startswith("通过 — 语音播报正常（mock） （")


@pytest.fixture
def silent_kiosk(
    qtbot: QtBot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KioskApp]:
    """A terminal whose speech engine is not installed."""
    monkeypatch.setenv(ENGINE_ENV, "no-such-engine")
    app = make_kiosk(qtbot, settings)
    yield app
    app.shutdown()


def test_a_silent_terminal_is_listed_as_such_for_the_technician(
    qtbot: QtBot, silent_kiosk: KioskApp, artifacts: Path
) -> None:
    window = silent_kiosk.window
    shot = Shots(artifacts / "technician-pages-silent", window)
    voice = window.voice
    assert voice is not None
    qtbot.waitUntil(lambda: voice.engine_name == "", timeout=5000)
    enter_mode(qtbot, silent_kiosk)
    summary = find(window, QLabel, "diagSummary")
    qtbot.waitUntil(lambda: "语音播报" in summary.text(), timeout=3000)
    assert "语音播报不可用：未安装 no-such-engine" in summary.text().splitlines()
    assert card_text(window, "speech").splitlines() == [
        "语音播报  ·  不可用：未安装 no-such-engine",
        "语音引擎 no-such-engine",
    ]
    shot("devices-silent")
    tap(qtbot, window, "diagNav_selftests")
    found = result_of(qtbot, window, "voice")
    shot("selftests-silent")
    assert found.startswith("未通过 — 语音播报不可用：未安装 no-such-engine （"), found
    english(qtbot, window)
    found = str(find(window, QLabel, "selftestResult_voice").text())
    assert found.startswith("FAIL — voice unavailable: no-such-engine is not installed ("), found


def test_a_crashed_worker_shows_on_the_devices_page(
    qtbot: QtBot, kiosk: KioskApp, shots: Shots
) -> None:
    """A device loop that crashed and came back is listed with its restart and its last crash;
    while it restarts, the summary at the top says so."""
    window = kiosk.window
    reader = kiosk.controller.devices.id_card_reader
    assert reader is not None
    original = reader._poll  # type: ignore[attr-defined]
    calls: list[int] = []

    def throws_once(*args: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise IndexError("an error nobody planned for")
        original(*args)

    reader._poll = throws_once  # type: ignore[attr-defined]
    reader._worker._base = 3.0  # type: ignore[attr-defined]  # long enough to read it restarting
    reader.stop()
    reader.start()
    enter_mode(qtbot, kiosk)
    summary = find(window, QLabel, "diagSummary")
    qtbot.waitUntil(lambda: "正在重启" in summary.text(), timeout=10000)
    assert f"后台任务 {reader.name}-sam 出错，正在重启（crashed:IndexError）" in summary.text()
    shots("worker-restarting")
    back = f"{reader.name}-sam · 运行中 · 重启 1 次  上次故障 crashed:IndexError"
    qtbot.waitUntil(lambda: back in card_text(window, "workers"), timeout=10000)
    assert "正在重启" not in summary.text()


def test_records_waiting_for_the_platforms_key_are_counted_on_the_queue_page(
    qtbot: QtBot, settings: Settings, artifacts: Path
) -> None:
    """A terminal that syncs to a platform whose personal-data key it has not got yet keeps a
    feedback phone number back (never sent in the clear); the queue page says how many wait so."""
    from offline.outbox import OutboxStore

    data_dir = Path(str(settings.data_dir))
    data_dir.mkdir(parents=True, exist_ok=True)
    store = OutboxStore(data_dir / "kiosk.db")
    store.record("feedback", {"text_length": 3}, personal={"phone": "13800000000"})
    store.record("queue_ticket", {"ticket": "A001"})
    store.close()
    # A platform that does not answer, and no embedded one: the records stay on the terminal.
    offline = settings.model_copy(
        update={
            "central": settings.central.model_copy(
                update={"url": "http://127.0.0.1:9", "token": "t" * 43}
            )
        }
    )
    kiosk = make_kiosk(qtbot, offline)
    try:
        window = kiosk.window
        shots = Shots(artifacts / "technician-pages", window)
        enter_mode(qtbot, kiosk)
        tap(qtbot, window, "diagNav_queue")
        oldest = find(window, QLabel, "queueOldest")
        qtbot.waitUntil(lambda: "个人信息" in oldest.text(), timeout=10000)
        assert "其中 1 条含个人信息" in oldest.text(), oldest.text()
        shots("queue-awaiting-key")
        english(qtbot, window)
        tap(qtbot, window, "diagNav_queue")
        qtbot.waitUntil(lambda: "1 of them hold personal fields" in oldest.text(), timeout=10000)
    finally:
        kiosk.shutdown()
