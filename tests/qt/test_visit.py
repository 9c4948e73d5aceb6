"""A resident's whole visit, driven by touch alone on the real window with simulated devices.

Every screen is saved under test-artifacts/visit/ so a person can look at what residents see.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from drivers.base import DeviceState
from drivers.receipt_printer import ReceiptPrinter
from kiosk.app import KioskApp, build, qt_app
from kiosk.config.settings import Settings, Timeouts, load_settings
from kiosk.visit.session import State, VisitView
from offline.outbox import OutboxStore


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    st = load_settings(data_dir=tmp_path / "data")
    return st.model_copy(update={"timeouts": Timeouts(goodbye=2)})


@pytest.fixture
def kiosk(qtbot: QtBot, settings: Settings) -> Iterator[KioskApp]:
    qt_app()
    app = build(settings, simulate=True)
    qtbot.addWidget(app.window)
    app.window.resize(1920, 1080)
    app.window.show()
    app.controller.start()
    reader = app.devices.id_card_reader
    assert reader is not None
    qtbot.waitUntil(lambda: reader.status.state is DeviceState.READY, timeout=5000)
    yield app
    app.shutdown()


def find(window: QWidget, kind: type, name: str):  # type: ignore[no-untyped-def]
    widget = window.findChild(kind, name)
    assert widget is not None, f"no {kind.__name__} named {name}"
    return widget


def text_of(window: QWidget, name: str) -> str:
    return str(find(window, QLabel, name).text())


def tap(qtbot: QtBot, window: QWidget, name: str) -> None:
    btn = find(window, QPushButton, name)
    assert btn.isVisible() and btn.isEnabled(), f"{name} cannot be tapped"
    qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)


def visible_texts(window: QWidget) -> list[str]:
    return [w.text() for w in window.findChildren(QLabel) + window.findChildren(QPushButton)]


class Shots:
    def __init__(self, folder: Path, window: QWidget) -> None:
        self.folder, self.window, self.n = folder, window, 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        image = self.window.grab()
        assert (image.width(), image.height()) == (1920, 1080), "the layout outgrew the panel"
        assert image.save(str(path))
        return path


def test_whole_visit_by_touch(
    qtbot: QtBot,
    kiosk: KioskApp,
    settings: Settings,
    artifacts: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, controller = kiosk.window, kiosk.controller
    shot = Shots(artifacts / "visit", window)
    db_path = Path(str(settings.data_dir)) / "kiosk.db"

    # Spy (not mock) on the blocking calls: they must never run on the Qt main thread.
    blocking_threads: list[str] = []
    original_record, original_print = OutboxStore.record, ReceiptPrinter.print_receipt

    def record_spy(self: OutboxStore, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        blocking_threads.append(threading.current_thread().name)
        return original_record(self, *args, **kw)  # type: ignore[arg-type]

    def print_spy(self: ReceiptPrinter, *args: object) -> None:
        blocking_threads.append(threading.current_thread().name)
        original_print(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(OutboxStore, "record", record_spy)
    monkeypatch.setattr(ReceiptPrinter, "print_receipt", print_spy)

    # "Recorded" may only appear once the row is committed: check at the moment it is shown.
    committed_when_shown: list[bool] = []

    def on_view(view: VisitView) -> None:
        if view.state is State.RESULT and not committed_when_shown:
            conn = sqlite3.connect(db_path)
            rows = conn.execute(
                "SELECT COUNT(*) FROM transactions t JOIN outbox o USING (seq)"
                " WHERE t.service = 'queue_ticket'"
            ).fetchone()[0]
            conn.close()
            committed_when_shown.append(rows == 1)

    controller.add_view_listener(on_view)

    assert text_of(window, "attractTitle") == "欢迎使用自助服务终端"
    assert find(window, QWidget, "SimPanel").isVisible()
    shot("attract")

    tap(qtbot, window, "startButton")
    assert controller.session.state is State.CATALOGUE
    assert text_of(window, "greeting") == "您好，欢迎"
    assert text_of(window, "tileName_queue_ticket") == "排队取号"
    assert text_of(window, "tileHelp_queue_ticket") == "领取人工窗口的排队号码"
    shot("catalogue")

    tap(qtbot, window, "service_queue_ticket")
    assert controller.session.state is State.IDENTIFY
    assert text_of(window, "identifyTitle") == "请放置您的身份证"
    shot("identify")

    tap(qtbot, window, "simPresentCard")
    qtbot.waitUntil(lambda: controller.session.view().reading_card, timeout=3000)
    assert text_of(window, "identifyStatus") == "正在读取证件，请不要移动…"
    shot("identify-reading")

    qtbot.waitUntil(lambda: controller.session.state is State.CHOOSE, timeout=5000)
    assert text_of(window, "chooseTitle") == "请选择您要办理的业务类型"
    shot("choose")

    tap(qtbot, window, "option_social_security")
    assert text_of(window, "confirmBody") == "为您领取「社会保险」窗口的排队号码"
    shot("confirm")

    tap(qtbot, window, "confirmButton")
    qtbot.waitUntil(lambda: controller.session.state is State.RESULT, timeout=5000)
    assert committed_when_shown == [True]
    assert text_of(window, "ticketNumber") == "A001"
    qtbot.waitUntil(lambda: controller.session.view().receipt == "printed", timeout=10000)
    assert text_of(window, "receiptStatus") == "请取走下方的凭条"
    shot("result")

    printer_dir = Path(str(settings.data_dir)) / "printer"
    qtbot.waitUntil((printer_dir / "last-receipt.png").exists, timeout=5000)
    receipt = (printer_dir / "last-receipt.bin").read_bytes()
    assert b"A001" in receipt and "社会保险".encode("gb18030") in receipt
    assert "张秀英".encode("gb18030") not in receipt  # no personal data on paper
    preview = printer_dir / "last-receipt.png"
    assert preview.stat().st_size > 10_000
    (artifacts / "visit" / "receipt-preview.png").write_bytes(preview.read_bytes())

    tap(qtbot, window, "nextButton")
    assert text_of(window, "ratingTitle") == "您对本次服务满意吗？"
    shot("rating")

    tap(qtbot, window, "rate5")
    assert text_of(window, "ratingTitle") == "谢谢您的评价"  # the reasons that fit the face
    shot("rating-praise")
    tap(qtbot, window, "submitRating")
    assert controller.session.state is State.GOODBYE
    assert text_of(window, "goodbyeBody") == "办理完成，您的信息已清除"
    # The card is still on the reader: the goodbye asks for it by name, and says it aloud.
    assert text_of(window, "goodbyeRemind") == "请取走您的身份证"
    shot("goodbye")
    # The resident is forgotten the moment the visit ends: no screen still holds the name.
    assert not controller.session.holds_personal_data
    assert not any("张秀英" in text for text in visible_texts(window))

    qtbot.waitUntil(lambda: controller.session.state is State.ATTRACT, timeout=5000)
    # Still there after the goodbye: the attract screen asks for it until it is taken.
    assert find(window, QLabel, "attractCardLeft").isVisible()
    shot("attract-card-left")
    tap(qtbot, window, "simRemoveCard")
    qtbot.waitUntil(lambda: not find(window, QLabel, "attractCardLeft").isVisible(), timeout=5000)
    shot("attract-again")

    # ticket, receipt, rating, visit metrics
    qtbot.waitUntil(lambda: len(blocking_threads) == 4, timeout=5000)
    assert threading.main_thread().name not in blocking_threads

    controller.db.shutdown()  # let the rating commit land before reading the file
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT service, payload, o.state FROM transactions JOIN outbox o USING (seq) ORDER BY seq"
    ).fetchall()
    conn.close()
    assert [(r[0], r[2]) for r in rows] == [
        ("queue_ticket", "pending"), ("rating", "pending"), ("visit_metrics", "pending")
    ]  # fmt: skip
    ticket_payload = json.loads(rows[0][1])
    assert ticket_payload["ticket"] == "A001" and ticket_payload["option"] == "social_security"
    assert json.loads(rows[1][1])["score"] == 5


def test_english_visit_and_printer_out_of_paper(
    qtbot: QtBot, kiosk: KioskApp, artifacts: Path
) -> None:
    """Given the printer is out of paper, the resident still gets their number, on screen."""
    window, controller = kiosk.window, kiosk.controller
    shot = Shots(artifacts / "visit-en-paper-out", window)
    tap(qtbot, window, "languageButton")
    assert text_of(window, "attractTitle") == "Welcome to the self-service terminal"
    tap(qtbot, window, "simPaperOut")
    kiosk.devices.id_card_reader.present()  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: controller.session.state is State.CATALOGUE, timeout=5000)
    assert text_of(window, "greeting") == "Hello, 张秀英"
    tap(qtbot, window, "service_queue_ticket")
    tap(qtbot, window, "option_general")
    shot("confirm")
    tap(qtbot, window, "confirmButton")
    qtbot.waitUntil(lambda: controller.session.view().receipt == "failed", timeout=10000)
    assert text_of(window, "ticketNumber") == "D001"
    assert text_of(window, "receiptStatus") == (
        "The receipt could not be printed. Please remember your number"
    )
    shot("result-paper-out")
    tap(qtbot, window, "exitButton")
    assert controller.session.state is State.GOODBYE
    assert not any("张秀英" in text for text in visible_texts(window))


def test_devices_pulled_mid_visit_get_a_calm_word_and_come_back_by_themselves(
    qtbot: QtBot, kiosk: KioskApp, artifacts: Path
) -> None:
    window, controller = kiosk.window, kiosk.controller
    shot = Shots(artifacts / "visit-devices-pulled", window)
    reader = kiosk.devices.id_card_reader
    printer = kiosk.devices.receipt_printer
    assert reader is not None and printer is not None

    tap(qtbot, window, "startButton")
    tap(qtbot, window, "service_queue_ticket")
    # The card is snatched away mid-read, then the reader is pulled and stays out a while.
    reader.inject("removed_mid_read")  # type: ignore[attr-defined]
    reader.present()  # type: ignore[attr-defined]
    view = controller.session.view
    qtbot.waitUntil(lambda: view().notice_key == "card.read_failed", timeout=5000)
    assert text_of(window, "identifyNotice") == "没有读取成功，请将证件平放，稍等片刻"
    reader.inject("unplugged")  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: controller.session.view().device_notice_key is not None, timeout=5000)
    assert controller.session.state is State.IDENTIFY  # not thrown out, not an error screen
    notice = find(window, QLabel, "identifyNotice")
    assert notice.isVisible() and notice.text() == "读卡器正在恢复，请稍候；也可请工作人员帮忙"
    assert not find(window, QWidget, "identifyStatus").text()  # no "reading..." left behind
    shot("identify-reader-pulled")

    reader.inject("unplugged", False)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: controller.session.view().device_notice_key is None, timeout=10000)
    assert reader.status.state is DeviceState.READY
    reader.present()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: controller.session.state is State.CHOOSE, timeout=5000)

    # The printer is pulled just before the receipt: the number is still on screen, and the
    # printer is found again by its status poll without anyone restarting anything.
    printer.inject("unplugged")  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: printer.status.state is DeviceState.ABSENT, timeout=5000)
    tap(qtbot, window, "option_general")
    tap(qtbot, window, "confirmButton")
    qtbot.waitUntil(lambda: controller.session.view().receipt == "failed", timeout=10000)
    assert text_of(window, "ticketNumber") == "D001"
    shot("result-printer-pulled")
    printer.inject("unplugged", False)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: printer.status.state is DeviceState.READY, timeout=10000)
    assert "queue_ticket" not in controller.session.view().unavailable
