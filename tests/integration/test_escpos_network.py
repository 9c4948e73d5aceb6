"""The escpos-network driver against the ESC/POS sink over real TCP on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.base import DeviceState
from drivers.escpos_status import parse_status
from drivers.receipt import Align, Qr, Receipt, Text
from drivers.receipt_printer import EscposNetworkPrinter, PrinterError
from drivers.sim_escpos_sink import EscposSink
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
    time.sleep(0.2)  # let the sink act on "unplugged"
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
