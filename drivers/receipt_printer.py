"""Receipt printers: the interface, the ESC/POS transports (file, network, serial, USB) and the
simulated printer."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from contracts.device_kinds import DeviceKind
from drivers.base import Device, DeviceState
from drivers.escpos_layout import PrinterProfile, render
from drivers.escpos_status import PaperStatus
from drivers.receipt import Receipt
from runtime.supervisor import Supervised

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
            self.count_operation()

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

    @property
    def where(self) -> str:
        return str(self.path)

    def start(self) -> None:
        self._set_state(DeviceState.READY)

    def _send(self, data: bytes) -> None:
        from escpos.printer import File  # optional heavy import, only when printing

        _send_through(File(devfile=str(self.path), auto_flush=True), data)


STATUS_POLL_SECONDS = 15.0  # while ready: a paper-out printer is known before a resident waits
FAULT_POLL_SECONDS = 2.0  # while faulty or absent: a fixed printer comes back quickly


class StatusCheckedPrinter(ReceiptPrinter):
    """A printer that reads back (DLE EOT): paper and cover are checked before each job and
    polled in the background, so a fault is shown early and a fix is noticed without a restart."""

    timeout = 5.0

    def __init__(
        self,
        name: str,
        profile: PrinterProfile | None = None,
        *,
        poll_seconds: float = STATUS_POLL_SECONDS,
    ) -> None:
        super().__init__(name, profile)
        self.poll_seconds = poll_seconds
        self._poller: Supervised | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    def start(self) -> None:
        # Status checks touch the transport: never on the caller's (UI) thread.
        if self._poller is not None:
            self._wake.set()  # check again now, e.g. after a fault was cleared
            return
        self._set_state(DeviceState.CONNECTING)
        self._poller = self._supervised("status", lambda stop: self._poll())
        self._stop = self._poller.stopping  # one event: a stop is never taken for a crash
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._poller is not None:
            self._poller.stop(timeout=self.timeout + 1)
            self._poller = None

    def _poll(self) -> None:
        while not self._stop.is_set():
            if self._job_lock.acquire(blocking=False):  # a job checks for itself
                try:
                    self._check_quietly()
                finally:
                    self._job_lock.release()
            ok = self.status.state is DeviceState.READY
            self._wake.wait(self.poll_seconds if ok else min(self.poll_seconds, FAULT_POLL_SECONDS))
            self._wake.clear()

    def recheck(self) -> None:
        """Ask the printer for its status now and update the state; blocking (a worker's call),
        for a technician who has just fixed the paper."""
        with self._job_lock:
            self._check_quietly()

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
        try:
            status = self._read_status()
        except OSError as exc:
            raise PrinterError(
                "unreachable", "device.printer_unavailable", f"{self.where}: {exc}"
            ) from exc
        if status.cover_open:
            raise PrinterError("cover_open", "device.printer_cover_open", "cover open")
        if status.paper_out:
            raise PrinterError("paper_out", "device.printer_paper_out", "paper end sensor")

    @property
    def where(self) -> str:
        return self.name

    def _read_status(self) -> PaperStatus:
        raise OSError("this transport cannot read status")


class EscposNetworkPrinter(StatusCheckedPrinter):
    """ESC/POS over TCP (port 9100) through python-escpos."""

    driver = "escpos-network"

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 9100,
        *,
        timeout: float = 5.0,
        profile: PrinterProfile | None = None,
        poll_seconds: float = STATUS_POLL_SECONDS,
    ) -> None:
        super().__init__(name, profile, poll_seconds=poll_seconds)
        self.host, self.port, self.timeout = host, port, timeout

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _read_status(self) -> PaperStatus:
        from drivers.escpos_status import query_network

        return query_network(self.host, self.port, self.timeout)

    def _send(self, data: bytes) -> None:
        self.check_status()
        import socket

        from escpos.printer import Network

        # Connected here, not by python-escpos's open(): when a connect fails, that drops its
        # socket without closing it, and a terminal retrying for hours leaks descriptors.
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            detail = f"{self.where}: {exc.strerror or exc}"
            raise PrinterError("unreachable", "device.printer_unavailable", detail) from exc
        printer = Network(self.host, self.port, timeout=self.timeout)
        printer.device = sock
        try:
            printer._raw(data)
        finally:
            printer.close()


class EscposSerialPrinter(StatusCheckedPrinter):
    """ESC/POS over a serial port (RS-232 or a USB serial adapter) through python-escpos; status
    is read back over the same line."""

    driver = "escpos-serial"

    def __init__(
        self,
        name: str,
        port: str,
        baud: int = 19200,
        *,
        timeout: float = 2.0,
        profile: PrinterProfile | None = None,
        poll_seconds: float = STATUS_POLL_SECONDS,
    ) -> None:
        super().__init__(name, profile, poll_seconds=poll_seconds)
        self.port, self.baud, self.timeout = port, baud, timeout

    @property
    def where(self) -> str:
        return self.port

    def _read_status(self) -> PaperStatus:
        from drivers.escpos_status import query_serial

        return query_serial(self.port, self.baud, self.timeout)

    def _send(self, data: bytes) -> None:
        self.check_status()
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Serial

        from drivers.serial_errors import serial_errors

        # DTR/DSR flow control is off: many adapters (and ptys) do not wire it.
        printer = Serial(devfile=self.port, baudrate=self.baud, timeout=self.timeout, dsrdtr=False)
        try:
            _send_through(printer, data)
        except DeviceNotFoundError as exc:
            detail = str(exc).splitlines()[-1]
            raise PrinterError("unreachable", "device.printer_unavailable", detail) from exc
        except OSError:
            raise
        except serial_errors() as exc:  # the line vanished mid-job
            raise PrinterError("io_error", "device.printer_unavailable", str(exc)) from exc


class EscposUsbPrinter(StatusCheckedPrinter):
    """ESC/POS over USB (vendor and product id) through python-escpos and pyusb. Printers whose
    USB interface reads back answer DLE EOT; for the others set ``status = false``."""

    driver = "escpos-usb"

    def __init__(
        self,
        name: str,
        vendor_id: int,
        product_id: int,
        *,
        read_status: bool = True,
        timeout: float = 2.0,
        profile: PrinterProfile | None = None,
        poll_seconds: float = STATUS_POLL_SECONDS,
    ) -> None:
        super().__init__(name, profile, poll_seconds=poll_seconds)
        self.vendor_id, self.product_id = vendor_id, product_id
        self.read_status, self.timeout = read_status, timeout

    @property
    def where(self) -> str:
        return f"usb {self.vendor_id:04x}:{self.product_id:04x}"

    def _open(self) -> Any:
        try:
            from escpos.printer import Usb

            printer = Usb(self.vendor_id, self.product_id, timeout=int(self.timeout * 1000))
            printer.open()
        except Exception as exc:  # pyusb missing, no libusb backend, device absent, no access
            raise OSError(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
        return printer

    def _read_status(self) -> PaperStatus:
        from drivers.escpos_status import DLE_EOT_OFFLINE, DLE_EOT_PAPER, parse_status

        printer = self._open()
        try:
            if not self.read_status:
                return PaperStatus(paper_out=False, paper_low=False, cover_open=False)
            answers = []
            for query in (DLE_EOT_OFFLINE, DLE_EOT_PAPER):
                printer._raw(query)
                answer = printer._read()
                if not answer:
                    raise OSError("no answer to a status query")
                answers.append(answer[0])
            return parse_status(*answers)
        finally:
            printer.close()

    def _send(self, data: bytes) -> None:
        self.check_status()
        try:
            printer = self._open()
        except OSError as exc:
            raise PrinterError("unreachable", "device.printer_unavailable", str(exc)) from exc
        try:
            printer._raw(data)
        finally:
            printer.close()


class SimulatedReceiptPrinter(EscposNetworkPrinter):
    """The real escpos-network driver printing to the ESC/POS sink on a free loopback port:
    ``kiosk run --simulate``. Receipts land in *out_dir* with a PNG preview of the last one.

    Faults (``paper_out``, ``cover_open``, ``unplugged``) are the sink's; the driver learns of them
    the way it would from a real printer, through DLE EOT.
    """

    driver = "sim"

    def __init__(
        self,
        name: str,
        out_dir: Path,
        profile: PrinterProfile | None = None,
        *,
        faults: frozenset[str] = frozenset(),
    ) -> None:
        from drivers.sim_escpos_sink import EscposSink

        super().__init__(name, "127.0.0.1", 0, timeout=2.0, profile=profile)
        self.out_dir = out_dir
        self.sink = EscposSink(out_dir, port=0)
        for fault in sorted(faults):  # from settings: a rig starts with the paper already out
            self.sink.inject(fault)

    @property
    def last_receipt_path(self) -> Path:
        return self.out_dir / "last-receipt.bin"

    @property
    def last_preview_path(self) -> Path:
        return self.out_dir / "last-receipt.png"

    def inject(self, fault: str, active: bool = True) -> None:
        self.sink.inject(fault, active)
        self._wake.set()  # the poll would notice within seconds; the simulator bar wants it now

    def start(self) -> None:
        if self.port == 0:
            self.port = self.sink.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        self.sink.stop()
