"""What a resident can use now: services whose devices are down, that need the platform while
it is unreachable, or that must record while the outbox cannot, are greyed with the reason and
what to do instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.catalogue import IDENTIFY_MEANS, PLATFORM_QUERIES, Catalogue, Service
from contracts.device_kinds import DeviceKind
from drivers.base import DeviceStatus

# Actions whose result is a record in the outbox (a ticket's number, feedback). Calling staff
# records too, but is never greyed: a resident in trouble must still be able to ask for help, and
# the call shows on screen whether or not its record can be kept.
RECORDING_ACTIONS = frozenset({"ticket", "feedback"})
# Why, on the tile, when the outbox cannot be opened: residents need no word about databases, only
# that it cannot be done here now; the alternative says staff can help.
CANNOT_RECORD = "result.refused.title"


@dataclass(frozen=True)
class Unavailable:
    reason: str  # message key: why not now
    alternative: str  # message key: what the resident can do instead


def unavailable(
    catalogue: Catalogue,
    statuses: Iterable[DeviceStatus],
    *,
    online: bool = True,
    recording: bool = True,
) -> dict[str, Unavailable]:
    """Service code -> why it cannot run now and what to do instead, for every service
    that cannot. A service with several ways to identify needs only one of them. Without
    *recording* (the outbox could not be opened), services that end in a record are greyed
    at once, rather than failing at the end of the resident's visit."""
    broken = {s.kind: s for s in statuses if not s.usable}
    configured = {s.kind for s in statuses}
    out: dict[str, Unavailable] = {}
    for service in catalogue.services:
        why = _device_problem(service, broken, configured)
        if why is not None:
            out[service.code] = Unavailable(why, _alternative(service, why))
        elif not recording and _records(service, online):
            out[service.code] = Unavailable(CANNOT_RECORD, "alternative.staff")
        elif not online and service.action in PLATFORM_QUERIES and service.offline == "none":
            out[service.code] = Unavailable("service.needs_network", "alternative.staff")
    return out


def _records(service: Service, online: bool) -> bool:
    # Offline, an online query's only way is the request slip, which is a record.
    return service.action in RECORDING_ACTIONS or (
        not online and service.action in PLATFORM_QUERIES and service.offline == "request_slip"
    )


def _reason(kind: DeviceKind, broken: Mapping[DeviceKind, DeviceStatus]) -> str:
    status = broken.get(kind)
    fault = status.fault if status else None
    return fault.message_key if fault else _ABSENT_KEYS[kind]


def _device_problem(
    service: Service, broken: Mapping[DeviceKind, DeviceStatus], configured: set[DeviceKind]
) -> str | None:
    for kind in service.needs:
        if kind in broken or kind not in configured:
            return _reason(kind, broken)
    means = [IDENTIFY_MEANS[m] for m in service.identify_means]
    if means and all(k in broken or k not in configured for k in means):
        return _reason(means[0], broken)
    return None


def _alternative(service: Service, reason: str) -> str:
    if service.action == "ticket" and "printer" in reason:
        return "alternative.number_on_screen"
    return "alternative.staff"


_ABSENT_KEYS = {
    DeviceKind.ID_CARD_READER: "device.reader_unavailable",
    DeviceKind.RECEIPT_PRINTER: "device.printer_unavailable",
    DeviceKind.CAMERA: "device.camera_unavailable",
    DeviceKind.SMART_CARD_READER: "device.smartcard_unavailable",
}
