"""The technician's diagnostics mode, driven by touch on the real window with simulated devices.

Every page is saved under test-artifacts/diagnostics/ so a person can look at what a technician
sees.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QWidget

from drivers.base import DeviceState
from drivers.receipt_printer import SimulatedReceiptPrinter
from drivers.sam_reader import SimulatedSamReader
from drivers.sim_cards import SAMPLE_CARDS
from kiosk.app import KioskApp, build, qt_app
from kiosk.config.settings import DiagnosticsSettings, Settings, Timeouts, load_settings
from kiosk.logs import setup_logging
from kiosk.technician.access import hash_pin
from kiosk.technician.redaction import KNOWN, PERSONAL_MASK
from kiosk.visit.session import State
from tests.qt.test_visit import Shots, find, tap

ROOT = Path(__file__).resolve().parents[2]
TEST_PIN = "123456"  # the simulator's documented test PIN (no PIN configured)
CONFIGURED_PIN = "2468"


def make_kiosk(qtbot: QtBot, settings: Settings) -> KioskApp:
    qt_app()
    app = build(settings, simulate=True)
    qtbot.addWidget(app.window)
    app.window.resize(1920, 1080)
    app.window.show()
    app.controller.start()
    for device in app.devices.devices.values():
        qtbot.waitUntil(lambda d=device: d.status.state is not DeviceState.CONNECTING, timeout=5000)
    return app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    st = load_settings(data_dir=tmp_path / "data")
    return st.model_copy(update={"timeouts": Timeouts(goodbye=2)})


@pytest.fixture
def kiosk(qtbot: QtBot, settings: Settings) -> Iterator[KioskApp]:
    app = make_kiosk(qtbot, settings)
    yield app
    app.shutdown()


def all_texts(window: QWidget) -> list[str]:
    texts = [w.text() for w in window.findChildren(QLabel) + window.findChildren(QPushButton)]
    return texts + [w.toPlainText() for w in window.findChildren(QPlainTextEdit)]


def english(qtbot: QtBot, window: QWidget) -> None:
    tap(qtbot, window, "languageButton")
    assert find(window, QPushButton, "languageButton").text() == "中文"


def open_pad(qtbot: QtBot, kiosk: KioskApp, taps: int = 5) -> None:
    corner = find(kiosk.window, QWidget, "diagCorner")
    for _ in range(taps):
        qtbot.mouseClick(corner, Qt.MouseButton.LeftButton)


def pad_visible(kiosk: KioskApp) -> bool:
    return find(kiosk.window, QWidget, "PinOverlay").isVisible()


def type_pin(qtbot: QtBot, kiosk: KioskApp, pin: str) -> None:
    for digit in pin:
        tap(qtbot, kiosk.window, f"pin{digit}")
    tap(qtbot, kiosk.window, "pinEnter")


def enter_mode(qtbot: QtBot, kiosk: KioskApp, pin: str = TEST_PIN) -> None:
    open_pad(qtbot, kiosk)
    assert pad_visible(kiosk)
    type_pin(qtbot, kiosk, pin)
    qtbot.waitUntil(lambda: kiosk.controller.session.state is State.TECHNICIAN, timeout=5000)
    assert not pad_visible(kiosk)


def message(kiosk: KioskApp) -> str:
    return str(find(kiosk.window, QLabel, "pinMessage").text())


def test_gesture_and_right_pin_open_the_mode_and_leaving_returns_to_attract(
    qtbot: QtBot, kiosk: KioskApp, artifacts: Path
) -> None:
    window = kiosk.window
    shot = Shots(artifacts / "diagnostics", window)
    english(qtbot, window)

    open_pad(qtbot, kiosk, taps=4)
    assert not pad_visible(kiosk), "four taps are not the gesture"
    open_pad(qtbot, kiosk, taps=1)  # the fifth, within three seconds
    assert pad_visible(kiosk)
    assert "123456" in message(kiosk)  # simulator only: the test PIN is on the pad
    for digit in TEST_PIN:
        tap(qtbot, window, f"pin{digit}")
    assert find(window, QLabel, "pinDots").text() == "●" * len(TEST_PIN)
    shot("pin-pad")
    tap(qtbot, window, "pinEnter")
    qtbot.waitUntil(lambda: kiosk.controller.session.state is State.TECHNICIAN, timeout=5000)
    assert find(window, QWidget, "DiagnosticsScreen").isVisible()
    assert find(window, QLabel, "diagSummary").isVisible()
    assert find(window, QLabel, "device_receipt_printer").text().startswith("printer")
    shot("devices")

    for page in ("selftests", "queue", "logs", "bundle"):
        tap(qtbot, window, f"diagNav_{page}")
        if page == "queue":
            qtbot.waitUntil(lambda: "Platform:" in find(window, QLabel, "queueLink").text())
        if page == "logs":
            qtbot.waitUntil(lambda: bool(find(window, QPlainTextEdit, "logsText").toPlainText()))
        shot(page)
    tap(qtbot, window, "languageButton")  # the technician's words follow the language
    assert find(window, QPushButton, "diagNav_bundle").text() == "诊断包"
    tap(qtbot, window, "diagNav_devices")
    qtbot.wait(20)  # the header's relayout for the longer button text is a posted event
    shot("devices-zh")

    tap(qtbot, window, "diagLeave")
    assert kiosk.controller.session.state is State.ATTRACT
    assert find(window, QWidget, "attractTitle").isVisible()

    # Entry, page views and exit are in the outbox's audit trail (written on its worker).
    db = Path(str(kiosk.controller.settings.data_dir)) / "kiosk.db"

    def audited() -> int:
        conn = sqlite3.connect(db)
        try:
            return int(
                conn.execute(
                    "SELECT COUNT(*) FROM transactions WHERE service = 'technician_audit'"
                ).fetchone()[0]
            )
        finally:
            conn.close()

    qtbot.waitUntil(lambda: audited() >= 6, timeout=3000)  # entry, 4 pages, exit


def test_wrong_pins_say_so_then_lock_with_the_time_left(
    qtbot: QtBot, settings: Settings, artifacts: Path
) -> None:
    cheap = hash_pin(CONFIGURED_PIN, n=2**10)  # a fast hash: the test is about the pad
    configured = settings.model_copy(
        update={"diagnostics": DiagnosticsSettings(technician_pin_hashes=[cheap])}
    )
    kiosk = make_kiosk(qtbot, configured)
    try:
        window = kiosk.window
        shot = Shots(artifacts / "diagnostics-entry", window)
        english(qtbot, window)
        open_pad(qtbot, kiosk)
        assert message(kiosk) == "" or not find(window, QLabel, "pinMessage").isVisible()
        assert not kiosk.diagnostics or not kiosk.diagnostics.test_pin  # configured: no test PIN
        type_pin(qtbot, kiosk, TEST_PIN)
        qtbot.waitUntil(lambda: message(kiosk).startswith("Wrong PIN"), timeout=3000)
        assert message(kiosk) == "Wrong PIN. 4 tries left before the entry locks."
        assert kiosk.controller.session.state is State.ATTRACT
        shot("wrong-pin")
        for left in (3, 2, 1):
            type_pin(qtbot, kiosk, "0000")
            qtbot.waitUntil(lambda n=left: f"{n} tries left" in message(kiosk), timeout=3000)
        type_pin(qtbot, kiosk, "0000")
        qtbot.waitUntil(lambda: message(kiosk).startswith("Too many wrong PINs"), timeout=3000)
        assert message(kiosk) in (
            "Too many wrong PINs. Try again in 30 s.",
            "Too many wrong PINs. Try again in 29 s.",
        )
        assert not find(window, QPushButton, "pin1").isEnabled()
        shot("locked")
        # Even the right PIN cannot be typed now; cancel closes the pad, a new one is still locked.
        tap(qtbot, window, "pinCancel")
        assert not pad_visible(kiosk)
        open_pad(qtbot, kiosk)
        assert message(kiosk).startswith("Too many wrong PINs")
        assert kiosk.controller.session.state is State.ATTRACT
    finally:
        kiosk.shutdown()


def test_no_pin_configured_keeps_the_entry_closed(qtbot: QtBot, settings: Settings) -> None:
    """Given a real terminal (not --simulate) without PIN hashes, the pad says it is closed."""
    qt_app()
    kiosk = build(settings, simulate=False)
    qtbot.addWidget(kiosk.window)
    try:
        assert kiosk.diagnostics is not None and not kiosk.diagnostics.entry_open
        kiosk.window.resize(1920, 1080)
        kiosk.window.show()
        open_pad(qtbot, kiosk)
        assert message(kiosk).startswith("本终端未设置维护密码")
        assert not find(kiosk.window, QPushButton, "pin1").isEnabled()
    finally:
        kiosk.shutdown()


def test_paper_out_found_fixed_and_bundled(
    qtbot: QtBot, kiosk: KioskApp, settings: Settings, artifacts: Path
) -> None:
    """Done when: with the printer out of paper, "printer: paper out" is visible within three
    touches after the PIN; fixed, the print self-test passes; the CLI's bundle says the same."""
    window = kiosk.window
    data_dir = Path(str(settings.data_dir))
    setup_logging(data_dir / "logs")
    try:
        shot = Shots(artifacts / "diagnostics-paper-out", window)
        printer = kiosk.devices.receipt_printer
        assert isinstance(printer, SimulatedReceiptPrinter)
        printer.inject("paper_out")
        qtbot.waitUntil(lambda: printer.status.fault is not None, timeout=5000)
        english(qtbot, window)
        enter_mode(qtbot, kiosk)

        # Zero touches after the PIN: the first page says it in plain words.
        summary = find(window, QLabel, "diagSummary")
        assert summary.isVisible()
        assert "printer: paper out" in summary.text().splitlines()
        card = find(window, QLabel, "device_receipt_printer").text()
        assert card.startswith("printer  ·  fault: paper out")
        shot("paper-out")

        printer.inject("paper_out", False)  # the technician loads paper
        tap(qtbot, window, "diagRefresh")  # asks the printer now (on a worker)
        qtbot.waitUntil(lambda: "printer: paper out" not in summary.text(), timeout=5000)
        assert not any(line.startswith("printer") for line in summary.text().splitlines())
        card = find(window, QLabel, "device_receipt_printer").text()
        assert card.startswith("printer  ·  ready")
        assert "Last fault: paper out (paper_out)" in card
        shot("paper-loaded")

        tap(qtbot, window, "diagNav_selftests")
        tap(qtbot, window, "selftest_print")
        result = find(window, QLabel, "selftestResult_print")
        assert result.text() == "Running…"
        qtbot.waitUntil(lambda: result.text().startswith("PASS"), timeout=15000)
        assert "test page printed" in result.text()
        shot("print-pass")

        tap(qtbot, window, "diagNav_bundle")
        tap(qtbot, window, "bundleWrite")
        path_label = find(window, QLabel, "bundlePath")
        qtbot.waitUntil(lambda: path_label.text().startswith("Written to"), timeout=10000)
        shot("bundle")
        tap(qtbot, window, "diagNav_logs")
        tap(qtbot, window, "logsFilter_receipt_printer")
        logs = find(window, QPlainTextEdit, "logsText")
        qtbot.waitUntil(lambda: "paper_out" in logs.toPlainText(), timeout=3000)
        assert "card reader" not in logs.toPlainText()
        shot("logs-printer")
        in_app = Path(path_label.text().removeprefix("Written to ").replace("\u200b", ""))
        with zipfile.ZipFile(in_app) as zf:
            snapshot = json.loads(zf.read("snapshot.json"))
        row = next(d for d in snapshot["devices"] if d["kind"] == "receipt_printer")
        assert row["state"] == "ready"
        assert row["last_fault"]["code"] == "paper_out"
        assert any(r["name"] == "print" and r["passed"] for r in snapshot["last_selftests"])
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if type(h).__module__ == "kiosk.logs"]:
            root.removeHandler(handler)
            handler.close()

    # The same facts from the CLI, on the same data directory (as over SSH).
    out = data_dir / "cli-bundle.zip"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "bundle", "--out", str(out),
         "--data-dir", str(data_dir), "--simulate", "--no-selftest", "--wait", "0.5"],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        selftests = json.loads(zf.read("selftests.json"))
        logs = zf.read("logs/recent.jsonl").decode()
    assert any(r["name"] == "print" and r["passed"] for r in selftests["last"])
    assert "paper_out" in logs


def test_no_resident_data_in_the_mode_and_no_visit_while_open(
    qtbot: QtBot, kiosk: KioskApp, artifacts: Path
) -> None:
    window, controller = kiosk.window, kiosk.controller
    shot = Shots(artifacts / "diagnostics-privacy", window)
    reader = kiosk.devices.id_card_reader
    assert isinstance(reader, SimulatedSamReader)
    card = SAMPLE_CARDS[0]
    reader.present()
    qtbot.waitUntil(lambda: controller.session.state is State.CATALOGUE, timeout=5000)
    assert any(card.name in text for text in all_texts(window))
    assert KNOWN.mask(f"hello {card.name}") == f"hello {PERSONAL_MASK}"  # logs mask the name
    reader.remove()

    enter_mode(qtbot, kiosk)  # mid-visit: the visit ends, the resident is forgotten
    assert not controller.session.holds_personal_data
    assert KNOWN.mask(card.name) == card.name  # forgotten once the visit ended
    for page in ("devices", "selftests", "queue", "logs", "bundle"):
        tap(qtbot, window, f"diagNav_{page}")
        for text in all_texts(window):
            assert card.name not in text and card.id_number not in text, page
            assert card.address not in text, page
    shot("after-a-visit")
    tap(qtbot, window, "bundleWrite")  # the bundle page is showing
    path_label = find(window, QLabel, "bundlePath")
    qtbot.waitUntil(lambda: "/" in path_label.text(), timeout=10000)
    path = Path("/" + path_label.text().split("/", 1)[1].replace("\u200b", ""))
    with zipfile.ZipFile(path) as zf:
        everything = "".join(zf.read(n).decode() for n in zf.namelist())
    for personal in (card.name, card.id_number, card.address):
        assert personal not in everything

    # A card on the reader while the mode is open starts no visit; the card self-test reads it
    # and says only that it was read and its number is valid.
    tap(qtbot, window, "diagNav_selftests")
    tap(qtbot, window, "selftest_card")
    reader.present()
    result = find(window, QLabel, "selftestResult_card")
    qtbot.waitUntil(lambda: result.property("verdict") == "pass", timeout=10000)
    assert "读卡正常，身份证号码有效" in result.text()  # the terminal's language: Chinese
    qtbot.wait(300)  # the controller's copy of the card event has arrived by now
    assert controller.session.state is State.TECHNICIAN
    assert not controller.session.holds_personal_data
    assert KNOWN.mask(card.name) == card.name
    for text in all_texts(window):
        assert card.name not in text and card.id_number not in text
    shot("card-selftest")
    reader.remove()
    tap(qtbot, window, "diagLeave")
    assert controller.session.state is State.ATTRACT
    assert find(window, QWidget, "attractTitle").isVisible()


def test_a_card_laid_down_while_the_pin_pad_is_up_starts_no_visit(
    qtbot: QtBot, kiosk: KioskApp
) -> None:
    reader = kiosk.devices.id_card_reader
    assert isinstance(reader, SimulatedSamReader)
    qtbot.waitUntil(lambda: reader.status.state is DeviceState.READY, timeout=5000)
    open_pad(qtbot, kiosk)
    assert pad_visible(kiosk)
    reader.present(SAMPLE_CARDS[0])
    qtbot.waitUntil(lambda: reader.counters()["operations"] >= 1, timeout=5000)
    qtbot.wait(300)  # let the posted card events reach the main thread
    assert kiosk.controller.session.state is State.ATTRACT
    assert not kiosk.controller.session.holds_personal_data
    tap(qtbot, kiosk.window, "pinCancel")
    assert not pad_visible(kiosk)
