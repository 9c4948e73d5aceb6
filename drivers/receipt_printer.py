"""Receipt printers: the interface, the ESC/POS file transport and the simulated printer."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from drivers.base import Device, DeviceKind, DeviceState
from drivers.escpos_layout import PrinterProfile, render
from drivers.receipt import Receipt

log = logging.getLogger(__name__)


class PrinterError(Exception):
    """A receipt was not printed; ``fault`` says why in a form the resident's screen can use."""

    def __init__(self, code: str, message_key: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.message_key, self.detail = code, message_key, detail


class ReceiptPrinter(Device):
    """Blocking calls, made from a worker thread: the UI never waits on paper."""

    kind = DeviceKind.RECEIPT_PRINTER

    def __init__(self, name: str, profile: PrinterProfile | None = None) -> None:
        super().__init__(name)
        self.profile = profile or PrinterProfile()
        self._job_lock = threading.Lock()

    def print_receipt(self, receipt: Receipt) -> None:
        """Print one receipt or raise PrinterError; one job at a time."""
        data = render(receipt, self.profile)
        with self._job_lock:
            self._set_state(DeviceState.BUSY)
            try:
                self._send(data)
            except PrinterError as exc:
                self._set_state(
                    DeviceState.FAULT, self.fault(exc.code, exc.message_key, exc.detail)
                )
                raise
            except OSError as exc:
                self._set_state(
                    DeviceState.FAULT,
                    self.fault("io_error", "device.printer_unavailable", str(exc)),
                )
                raise PrinterError("io_error", "device.printer_unavailable", str(exc)) from exc
            self._set_state(DeviceState.READY)

    def _send(self, data: bytes) -> None:
        raise PrinterError("no_transport", "device.printer_unavailable", "no transport")


def _send_through(printer: Any, data: bytes) -> None:
    """One job through a python-escpos transport: open, its ``_raw`` primitive, close."""
    try:
        printer.open()
        printer._raw(data)
    finally:
        printer.close()


class EscposFilePrinter(ReceiptPrinter):
    """ESC/POS into a file or device node (``/dev/usb/lp0``) through python-escpos."""

    driver = "escpos-file"

    def __init__(self, name: str, path: Path, profile: PrinterProfile | None = None) -> None:
        super().__init__(name, profile)
        self.path = path

    def start(self) -> None:
        self._set_state(DeviceState.READY)

    def _send(self, data: bytes) -> None:
        from escpos.printer import File  # optional heavy import, only when printing

        _send_through(File(devfile=str(self.path), auto_flush=True), data)


class EscposNetworkPrinter(ReceiptPrinter):
    """ESC/POS over TCP (port 9100) through python-escpos; paper and cover are checked with
    DLE EOT before each job, so "paper out" is known before a resident waits for a receipt."""

    driver = "escpos-network"

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 9100,
        *,
        timeout: float = 5.0,
        profile: PrinterProfile | None = None,
    ) -> None:
        super().__init__(name, profile)
        self.host, self.port, self.timeout = host, port, timeout
        self._checker: threading.Thread | None = None

    def start(self) -> None:
        # The first status check touches the network: never on the caller's (UI) thread.
        self._set_state(DeviceState.CONNECTING)
        self._checker = threading.Thread(target=self._check_quietly, daemon=True)
        self._checker.start()

    def stop(self) -> None:
        if self._checker is not None:
            self._checker.join(timeout=self.timeout + 1)
            self._checker = None

    def _check_quietly(self) -> None:
        try:
            self.check_status()
        except PrinterError as exc:
            state = DeviceState.ABSENT if exc.code == "unreachable" else DeviceState.FAULT
            self._set_state(state, self.fault(exc.code, exc.message_key, exc.detail))
        else:
            self._set_state(DeviceState.READY)

    def check_status(self) -> None:
        """Raise PrinterError if the printer is unreachable, out of paper or open."""
        from drivers.escpos_status import query_network

        try:
            status = query_network(self.host, self.port, self.timeout)
        except OSError as exc:
            raise PrinterError(
                "unreachable", "device.printer_unavailable", f"{self.host}:{self.port}: {exc}"
            ) from exc
        if status.cover_open:
            raise PrinterError("cover_open", "device.printer_cover_open", "cover open")
        if status.paper_out:
            raise PrinterError("paper_out", "device.printer_paper_out", "paper end sensor")

    def _send(self, data: bytes) -> None:
        self.check_status()
        from escpos.printer import Network

        _send_through(Network(self.host, self.port, timeout=self.timeout), data)


class SimulatedReceiptPrinter(EscposNetworkPrinter):
    """The real escpos-network driver printing to the ESC/POS sink on a free loopback port:
    ``kiosk run --simulate``. Receipts land in *out_dir* with a PNG preview of the last one.

    Faults (``paper_out``, ``cover_open``, ``unplugged``) are the sink's; the driver learns of them
    the way it would from a real printer, through DLE EOT.
    """

    driver = "sim"

    def __init__(self, name: str, out_dir: Path, profile: PrinterProfile | None = None) -> None:
        from drivers.sim_escpos_sink import EscposSink

        super().__init__(name, "127.0.0.1", 0, timeout=2.0, profile=profile)
        self.out_dir = out_dir
        self.sink = EscposSink(out_dir, port=0)

    @property
    def last_receipt_path(self) -> Path:
        return self.out_dir / "last-receipt.bin"

    @property
    def last_preview_path(self) -> Path:
        return self.out_dir / "last-receipt.png"

    def inject(self, fault: str, active: bool = True) -> None:
        self.sink.inject(fault, active)
        self.start()  # re-check the status in the background, as a status poll would

    def start(self) -> None:
        if self.port == 0:
            self.port = self.sink.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        self.sink.stop()
