"""The service catalogue: which services a terminal offers, what each needs, and what is usable now.

Names and help texts are translation keys (``service.<code>.name``); the catalogue itself is data,
loaded from ``catalogue.json`` so a configuration can replace it without a code change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from drivers.base import DeviceKind, DeviceStatus


@dataclass(frozen=True)
class ServiceOption:
    code: str
    prefix: str  # queue ticket letter for this kind of window


@dataclass(frozen=True)
class Service:
    code: str
    icon: str
    works_offline: bool
    needs: tuple[DeviceKind, ...]
    options: tuple[ServiceOption, ...]

    def option(self, code: str) -> ServiceOption | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Catalogue:
    services: tuple[Service, ...]

    def get(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def unavailable(self, statuses: Iterable[DeviceStatus]) -> dict[str, str]:
        """Service code -> message key of the reason, for every service that cannot run now."""
        broken = {s.kind: s for s in statuses if not s.usable}
        reasons: dict[str, str] = {}
        for service in self.services:
            for kind in service.needs:
                if kind in broken:
                    fault = broken[kind].fault
                    reasons[service.code] = fault.message_key if fault else _ABSENT_KEYS[kind]
                    break
        return reasons


_ABSENT_KEYS = {
    DeviceKind.ID_CARD_READER: "device.reader_unavailable",
    DeviceKind.RECEIPT_PRINTER: "device.printer_unavailable",
    DeviceKind.CAMERA: "device.camera_unavailable",
    DeviceKind.SMART_CARD_READER: "device.smartcard_unavailable",
}


def parse_catalogue(data: dict[str, object]) -> Catalogue:
    services = []
    raw_services = data.get("services")
    if not isinstance(raw_services, list) or not raw_services:
        raise ValueError("catalogue: 'services' must be a non-empty list")
    for i, raw in enumerate(raw_services):
        try:
            services.append(
                Service(
                    code=str(raw["code"]),
                    icon=str(raw.get("icon", "")),
                    works_offline=bool(raw.get("works_offline", False)),
                    needs=tuple(DeviceKind(n) for n in raw.get("needs", [])),
                    options=tuple(
                        ServiceOption(str(o["code"]), str(o.get("prefix", "")))
                        for o in raw.get("options", [])
                    ),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"catalogue: services[{i}]: {exc}") from exc
    return Catalogue(tuple(services))


def default_catalogue() -> Catalogue:
    text = resources.files("kiosk").joinpath("catalogue.json").read_text("utf-8")
    return parse_catalogue(json.loads(text))
