"""Receipt printers: the interface, the ESC/POS file transport and the simulated printer."""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from pathlib import Path

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

        printer = File(devfile=str(self.path), auto_flush=True)
        try:
            printer.open()
            printer._raw(data)  # python-escpos's transport primitive
        finally:
            printer.close()


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

        printer = Network(self.host, self.port, timeout=self.timeout)
        try:
            printer.open()
            printer._raw(data)  # python-escpos's transport primitive
        finally:
            printer.close()


class SimulatedReceiptPrinter(ReceiptPrinter):
    """Keeps every receipt's bytes under *out_dir* and a PNG preview of the last one.

    Faults by name: ``paper_out``, ``cover_open``, ``unplugged``; each stays until cleared.
    """

    driver = "sim"

    def __init__(self, name: str, out_dir: Path, profile: PrinterProfile | None = None) -> None:
        super().__init__(name, profile)
        self.out_dir = out_dir
        self._faults: set[str] = set()

    @property
    def last_receipt_path(self) -> Path:
        return self.out_dir / "last-receipt.bin"

    @property
    def last_preview_path(self) -> Path:
        return self.out_dir / "last-receipt.png"

    def start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._refresh_state()

    def inject(self, fault: str, active: bool = True) -> None:
        (self._faults.add if active else self._faults.discard)(fault)
        self._refresh_state()

    def _refresh_state(self) -> None:
        fault = self._current_fault()
        if fault is None:
            self._set_state(DeviceState.READY)
        else:
            code, key = fault
            state = DeviceState.ABSENT if code == "unplugged" else DeviceState.FAULT
            self._set_state(state, self.fault(code, key, f"simulated {code}"))

    def _current_fault(self) -> tuple[str, str] | None:
        for code, key in (
            ("unplugged", "device.printer_unavailable"),
            ("cover_open", "device.printer_cover_open"),
            ("paper_out", "device.printer_paper_out"),
        ):
            if code in self._faults:
                return code, key
        return None

    def _send(self, data: bytes) -> None:
        fault = self._current_fault()
        if fault is not None:
            raise PrinterError(fault[0], fault[1], f"simulated {fault[0]}")
        from drivers.escpos_preview import render_preview

        self.out_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        _write_atomic(self.out_dir / f"receipt-{stamp}.bin", data)
        _write_atomic(self.last_receipt_path, data)
        tmp = self.last_preview_path.with_suffix(".tmp.png")
        render_preview(data, self.profile.encoding).save(tmp)
        os.replace(tmp, self.last_preview_path)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
