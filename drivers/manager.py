"""The device manager: builds the configured devices, starts and stops them, reports states."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.device_kinds import DeviceKind
from drivers.base import Device, DeviceStatus, StatusListener
from drivers.idcard_reader import IdCardReader
from drivers.pcsc_reader import SmartCardReader
from drivers.receipt_printer import ReceiptPrinter
from drivers.registry import build

if TYPE_CHECKING:
    from drivers.camera import OpenCvCamera

log = logging.getLogger(__name__)


class DeviceManager:
    def __init__(self, devices: Mapping[DeviceKind, Device]) -> None:
        self.devices = dict(devices)

    @classmethod
    def from_config(
        cls, config: Mapping[DeviceKind, Mapping[str, Any]], data_dir: Path
    ) -> DeviceManager:
        return cls({kind: build(kind, kind.value, opts, data_dir) for kind, opts in config.items()})

    @property
    def id_card_reader(self) -> IdCardReader | None:
        dev = self.devices.get(DeviceKind.ID_CARD_READER)
        return dev if isinstance(dev, IdCardReader) else None

    @property
    def receipt_printer(self) -> ReceiptPrinter | None:
        dev = self.devices.get(DeviceKind.RECEIPT_PRINTER)
        return dev if isinstance(dev, ReceiptPrinter) else None

    @property
    def smart_card_reader(self) -> SmartCardReader | None:
        dev = self.devices.get(DeviceKind.SMART_CARD_READER)
        return dev if isinstance(dev, SmartCardReader) else None

    @property
    def camera(self) -> OpenCvCamera | None:
        dev = self.devices.get(DeviceKind.CAMERA)
        if dev is None:
            return None
        from drivers.camera import OpenCvCamera  # OpenCV only when a camera is configured

        return dev if isinstance(dev, OpenCvCamera) else None

    def add_status_listener(self, listener: StatusListener) -> None:
        for dev in self.devices.values():
            dev.add_listener(listener)

    def statuses(self) -> list[DeviceStatus]:
        return [dev.status for dev in self.devices.values()]

    def start(self) -> None:
        for dev in self.devices.values():
            try:
                dev.start()
            except Exception:  # one broken device must not keep the others (or the app) down
                log.exception("device %s failed to start", dev.name)

    def stop(self) -> None:
        for dev in self.devices.values():
            try:
                dev.stop()
            except Exception:
                log.exception("device %s failed to stop", dev.name)
