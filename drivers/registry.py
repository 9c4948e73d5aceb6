"""Drivers by name, as configuration names them (``driver = "sim"``): one table, no if-chains."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from contracts.device_kinds import DeviceKind
from drivers.base import Device
from drivers.camera import CAMERA_FAULTS, STALL_SECONDS, OpenCvCamera, SimulatedCamera
from drivers.escpos_layout import PrinterProfile
from drivers.pcsc_reader import PcscReader, SimulatedPcscReader
from drivers.receipt_printer import (
    EscposFilePrinter,
    EscposNetworkPrinter,
    EscposSerialPrinter,
    EscposUsbPrinter,
    SimulatedReceiptPrinter,
)
from drivers.sam_reader import SamSerialReader, SimulatedSamReader
from drivers.sim_escpos_sink import FAULTS as PRINTER_FAULTS
from drivers.sim_sam import FAULTS as SAM_FAULTS

Factory = Callable[[str, Mapping[str, Any], Path], Device]


class ConfigError(ValueError):
    """A device's configuration names an unknown driver or lacks a required option."""


def _profile(options: Mapping[str, Any]) -> PrinterProfile:
    return PrinterProfile(
        columns=int(options.get("columns", 48)),
        encoding=str(options.get("encoding", "gb18030")),
        native_qr=bool(options.get("native_qr", True)),
    )


def _require(options: Mapping[str, Any], key: str, driver: str) -> Any:
    if key not in options:
        raise ConfigError(f"driver {driver!r} needs the option {key!r}")
    return options[key]


def _faults(options: Mapping[str, Any], known: frozenset[str], driver: str) -> frozenset[str]:
    """A simulator's faults from settings (``faults = ["paper_out"]``), active from the start."""
    raw = options.get("faults", ())
    if not isinstance(raw, list | tuple) or not all(isinstance(f, str) for f in raw):
        raise ConfigError(f"driver {driver!r}: faults must be a list of names")
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(
            f"driver {driver!r}: unknown fault(s) {sorted(unknown)}; known: {sorted(known)}"
        )
    return frozenset(raw)


def _usb_id(value: Any) -> int:
    """USB ids as configuration writes them: 0x0416, "0416" (hex, as lsusb prints) or 1046."""
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 16)
    except ValueError:
        raise ConfigError(f"{value!r} is not a USB id (hex, as lsusb prints it)") from None


DRIVERS: dict[tuple[DeviceKind, str], Factory] = {
    # The simulated reader is the real SAM driver on a pty served by the SAM simulator.
    (DeviceKind.ID_CARD_READER, "sim"): lambda name, opts, data: SimulatedSamReader(
        name,
        Path(opts.get("link", data / "sim-sam-reader")),
        baud=int(opts.get("baud", 115200)),
        faults=_faults(opts, SAM_FAULTS, "sim"),
    ),
    (DeviceKind.ID_CARD_READER, "sam-serial"): lambda name, opts, data: SamSerialReader(
        name,
        str(_require(opts, "port", "sam-serial")),
        baud=int(opts.get("baud", 115200)),
        poll_seconds=float(opts.get("poll_seconds", 0.25)),
    ),
    (DeviceKind.RECEIPT_PRINTER, "sim"): lambda name, opts, data: SimulatedReceiptPrinter(
        name,
        Path(opts.get("out_dir", data / "printer")),
        _profile(opts),
        faults=_faults(opts, PRINTER_FAULTS, "sim"),
    ),
    (DeviceKind.RECEIPT_PRINTER, "escpos-file"): lambda name, opts, data: EscposFilePrinter(
        name, Path(_require(opts, "path", "escpos-file")), _profile(opts)
    ),
    (DeviceKind.RECEIPT_PRINTER, "escpos-network"): lambda name, opts, data: EscposNetworkPrinter(
        name,
        str(_require(opts, "host", "escpos-network")),
        int(opts.get("port", 9100)),
        timeout=float(opts.get("timeout", 5)),
        profile=_profile(opts),
        poll_seconds=float(opts.get("status_poll_seconds", 15)),
    ),
    (DeviceKind.RECEIPT_PRINTER, "escpos-serial"): lambda name, opts, data: EscposSerialPrinter(
        name,
        str(_require(opts, "port", "escpos-serial")),
        int(opts.get("baud", 19200)),
        profile=_profile(opts),
        poll_seconds=float(opts.get("status_poll_seconds", 15)),
    ),
    (DeviceKind.RECEIPT_PRINTER, "escpos-usb"): lambda name, opts, data: EscposUsbPrinter(
        name,
        _usb_id(_require(opts, "vendor_id", "escpos-usb")),
        _usb_id(_require(opts, "product_id", "escpos-usb")),
        read_status=bool(opts.get("status", True)),
        profile=_profile(opts),
        poll_seconds=float(opts.get("status_poll_seconds", 15)),
    ),
    # The simulated camera plays its own face pictures, or any file or image sequence as source.
    (DeviceKind.CAMERA, "sim"): lambda name, opts, data: SimulatedCamera(
        name,
        Path(opts.get("frames_dir", data / "sim-camera")),
        source=str(opts["source"]) if "source" in opts else None,
        fps=float(opts.get("fps", 15)),
        stall_seconds=float(opts.get("stall_seconds", STALL_SECONDS)),
        faults=_faults(opts, CAMERA_FAULTS, "sim"),
    ),
    (DeviceKind.CAMERA, "opencv"): lambda name, opts, data: OpenCvCamera(
        name,
        _require(opts, "source", "opencv"),
        fps=float(opts.get("fps", 15)),
        stall_seconds=float(opts.get("stall_seconds", STALL_SECONDS)),
    ),
    # The simulated smart card reader is the real PC/SC driver on pcscd's virtual reader (vpcd),
    # with a virtual card to put in it.
    (DeviceKind.SMART_CARD_READER, "sim"): lambda name, opts, data: SimulatedPcscReader(
        name,
        str(opts.get("reader", "Virtual PCD 00 00")),
        host=str(opts.get("host", "127.0.0.1")),
        port=int(opts.get("port", 35963)),
    ),
    (DeviceKind.SMART_CARD_READER, "pcsc"): lambda name, opts, data: PcscReader(
        name, str(opts["reader"]) if opts.get("reader") else None
    ),
}


def known_drivers(kind: DeviceKind) -> list[str]:
    return sorted(driver for k, driver in DRIVERS if k is kind)


def build(kind: DeviceKind, name: str, options: Mapping[str, Any], data_dir: Path) -> Device:
    driver = str(options.get("driver", "sim"))
    factory = DRIVERS.get((kind, driver))
    if factory is None:
        raise ConfigError(
            f"unknown {kind.value} driver {driver!r}; known: {', '.join(known_drivers(kind))}"
        )
    return factory(name, options, data_dir)
