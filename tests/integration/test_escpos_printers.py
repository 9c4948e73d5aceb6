"""The ESC/POS drivers against the ESC/POS sink: network over real TCP on loopback, serial over a
pty; USB without a printer attached."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.base import DeviceState
from drivers.escpos_status import parse_status
from drivers.receipt import Align, Qr, Receipt, Text
from drivers.receipt_printer import (
    EscposNetworkPrinter,
    EscposSerialPrinter,
    EscposUsbPrinter,
    PrinterError,
)
from drivers.sim_escpos_sink import EscposSerialSink, EscposSink
from tests.processes import kiosk_simulator
from tests.waiting import wait_for

RECEIPT = Receipt((Text("号码 A001", scale=2, align=Align.CENTER), Qr("X")))


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[EscposSink]:
    s = EscposSink(tmp_path / "out", port=0)
    s.start()
    yield s
    s.stop()


def test_print_lands_in_the_sink(sink: EscposSink) -> None:
    printer = EscposNetworkPrinter("p", "127.0.0.1", sink.port, timeout=2)
    printer.start()
    wait_for(lambda: printer.status.state is DeviceState.READY)
    printer.print_receipt(RECEIPT)
    wait_for(lambda: sink.jobs == 1)
    data = (sink.out_dir / "last-receipt.bin").read_bytes()
    assert data.startswith(b"\x1b@") and "号码".encode("gb18030") in data
    assert (sink.out_dir / "last-receipt.png").exists()
    printer.stop()


@pytest.mark.parametrize(
    ("fault", "code", "key", "state"),
    [
        ("paper_out", "paper_out", "device.printer_paper_out", DeviceState.FAULT),
        ("cover_open", "cover_open", "device.printer_cover_open", DeviceState.FAULT),
        ("unplugged", "unreachable", "device.printer_unavailable", DeviceState.FAULT),
    ],
)
def test_status_is_known_before_printing(
    sink: EscposSink, fault: str, code: str, key: str, state: DeviceState
) -> None:
    sink.inject(fault)
    printer = EscposNetworkPrinter("p", "127.0.0.1", sink.port, timeout=1)
    with pytest.raises(PrinterError) as info:
        printer.print_receipt(RECEIPT)
    assert (info.value.code, info.value.message_key) == (code, key)
    assert printer.status.state is state and printer.status.fault is not None
    assert sink.jobs == 0
    sink.inject(fault, False)
    wait_for(lambda: _prints(printer))
    assert printer.status.state is DeviceState.READY


def _prints(printer: EscposNetworkPrinter) -> bool:
    try:
        printer.print_receipt(RECEIPT)
    except PrinterError:
        return False
    return True


@pytest.mark.parametrize(
    ("offline", "paper", "expected"),
    [
        (0x12, 0x12, (False, False, False)),
        (0x16, 0x12, (False, False, True)),
        (0x32, 0x72, (True, False, False)),
        (0x12, 0x1E, (False, True, False)),
    ],
)
def test_status_bits(offline: int, paper: int, expected: tuple[bool, bool, bool]) -> None:
    st = parse_status(offline, paper)
    assert (st.paper_out, st.paper_low, st.cover_open) == expected


def test_diag_print_test_to_a_sink_in_another_process(tmp_path: Path) -> None:
    out = tmp_path / "printed"
    with kiosk_simulator("printer", "--out", str(out), "--port", "0") as port:
        res = subprocess.run(
            [sys.executable, "-m", "kiosk", "diag", "print-test", "--driver", "escpos-network",
             "--host", "127.0.0.1", "--port", port],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        wait_for((out / "last-receipt.png").exists)
    data = (out / "last-receipt.bin").read_bytes()
    assert "打印测试".encode("gb18030") in data and b"English" in data
    assert b"\x1d(k" in data and data.endswith(b"\x1dV\x42\x03")


def test_diag_print_test_unreachable_is_one_line(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "print-test", "--driver", "escpos-network",
         "--host", "127.0.0.1", "--port", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 1
    assert res.stderr.startswith("kiosk: print-test: unreachable") and res.stderr.count("\n") == 1


def test_diag_print_test_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "receipt.bin"
    res = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "print-test", "--driver", "escpos-file",
         "--path", str(target)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "中文".encode("gb18030") in target.read_bytes()


@pytest.fixture
def serial_sink(tmp_path: Path) -> Iterator[EscposSerialSink]:
    s = EscposSerialSink(tmp_path / "out", tmp_path / "printer-tty")
    s.start()
    yield s
    s.stop()


def test_serial_print_lands_in_the_sink(serial_sink: EscposSerialSink) -> None:
    printer = EscposSerialPrinter("p", str(serial_sink.link), 19200, timeout=1)
    printer.start()
    try:
        wait_for(lambda: printer.status.state is DeviceState.READY)
        printer.print_receipt(RECEIPT)
        wait_for(lambda: serial_sink.jobs == 1)
        data = (serial_sink.out_dir / "last-receipt.bin").read_bytes()
        assert data.startswith(b"\x1b@") and "号码".encode("gb18030") in data
    finally:
        printer.stop()


@pytest.mark.parametrize("fault", ["paper_out", "unplugged"])
def test_serial_faults_are_seen_by_the_poll_and_clear_by_themselves(
    serial_sink: EscposSerialSink, fault: str
) -> None:
    printer = EscposSerialPrinter("p", str(serial_sink.link), 19200, timeout=0.5, poll_seconds=0.5)
    printer.start()
    try:
        wait_for(lambda: printer.status.state is DeviceState.READY)
        serial_sink.inject(fault)
        # Nobody prints: the background status poll alone must notice, then notice the fix.
        wait_for(lambda: printer.status.state is not DeviceState.READY, timeout=20)
        status = printer.status
        assert status.fault is not None
        assert status.fault.code == ("paper_out" if fault == "paper_out" else "unreachable")
        with pytest.raises(PrinterError):
            printer.print_receipt(RECEIPT)
        serial_sink.inject(fault, False)
        wait_for(lambda: printer.status.state is DeviceState.READY, timeout=10)
        printer.print_receipt(RECEIPT)
        wait_for(lambda: serial_sink.jobs == 1)
    finally:
        printer.stop()


def test_network_printer_comes_back_by_itself_after_an_unplug(sink: EscposSink) -> None:
    printer = EscposNetworkPrinter("p", "127.0.0.1", sink.port, timeout=0.5)
    printer.start()
    try:
        wait_for(lambda: printer.status.state is DeviceState.READY)
        sink.inject("unplugged")
        printer.start()  # asks for a check now rather than at the next poll
        wait_for(lambda: printer.status.state is DeviceState.ABSENT)
        sink.inject("unplugged", False)
        wait_for(lambda: printer.status.state is DeviceState.READY, timeout=10)
    finally:
        printer.stop()


def test_usb_printer_that_is_not_there_is_absent_not_a_crash() -> None:
    printer = EscposUsbPrinter("p", 0x0416, 0x5011, timeout=0.5)
    printer.start()
    try:
        wait_for(lambda: printer.status.state is DeviceState.ABSENT)
        fault = printer.status.fault
        assert fault is not None and fault.code == "unreachable"
        assert fault.detail.startswith("usb 0416:5011")
        with pytest.raises(PrinterError) as info:
            printer.print_receipt(RECEIPT)
        assert info.value.message_key == "device.printer_unavailable"
    finally:
        printer.stop()


def test_diag_print_test_over_serial_to_a_sink_in_another_process(tmp_path: Path) -> None:
    out, link = tmp_path / "printed", tmp_path / "printer-tty"
    with kiosk_simulator("printer", "--out", str(out), "--serial-link", str(link)) as port:
        assert port == str(link)
        res = subprocess.run(
            [sys.executable, "-m", "kiosk", "diag", "print-test", "--driver", "escpos-serial",
             "--port", port],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        wait_for((out / "last-receipt.png").exists)
    assert "打印测试".encode("gb18030") in (out / "last-receipt.bin").read_bytes()


def test_diag_print_test_usb_without_a_printer_is_one_line() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "print-test", "--driver", "escpos-usb",
         "--usb", "0416:5011"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith("kiosk: print-test: unreachable: usb 0416:5011")
    assert res.stderr.count("\n") == 1
