"""The devices as a technician sees them: rows with state, plain-words problem, counters, last
fault and where they are attached; and bringing configured devices up for the CLI."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.device_kinds import DeviceKind
from drivers.base import Device, DeviceState
from kiosk.technician.plain_words import problem
from kiosk.technician.redaction import redact_text

if TYPE_CHECKING:
    from drivers.manager import DeviceManager
    from kiosk.config.settings import Settings

SETTLE_SECONDS = 3.0


def device_config(settings: Settings, *, simulate: bool) -> dict[DeviceKind, dict[str, Any]]:
    """The devices to build. With *simulate*, every device that is not a simulator becomes one;
    a simulator's own options (``faults = ["paper_out"]``) are kept, so a rig can start a
    simulated terminal with a fault already injected."""
    config = settings.device_config()
    ordered = {kind: config[kind] for kind in DeviceKind if kind in config}  # the same order always
    if not simulate:
        return ordered
    return {
        kind: opts if opts.get("driver", "sim") == "sim" else {"driver": "sim"}
        for kind, opts in ordered.items()
    }


def settled(device: Device) -> bool:
    """Past connecting: up, or with a fault that says why not."""
    st = device.status
    return st.state is not DeviceState.CONNECTING and not (
        st.state is DeviceState.ABSENT and st.fault is None
    )


def settle(devices: Iterable[Device], wait: float = SETTLE_SECONDS) -> None:
    """Wait up to *wait* seconds for every device to settle."""
    pending = list(devices)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not all(settled(d) for d in pending):
        time.sleep(0.05)


@contextlib.contextmanager
def running_devices(
    settings: Settings, data_dir: Path, *, simulate: bool, wait: float = SETTLE_SECONDS
) -> Iterator[DeviceManager]:
    """The configured devices, started and settled; stopped on the way out. Raises
    ``drivers.registry.ConfigError`` for a configuration naming an unknown driver."""
    from drivers.manager import DeviceManager

    manager = DeviceManager.from_config(device_config(settings, simulate=simulate), data_dir)
    manager.start()
    try:
        settle(manager.devices.values(), wait)
        yield manager
    finally:
        manager.stop()


def _clean_fault(fault: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    if fault is None:
        return None
    return {
        **fault,
        "detail": redact_text(str(fault.get("detail", ""))),
        "words": problem(kind, str(fault["code"])),
    }


def device_row(device: Device) -> dict[str, Any]:
    """``Device.describe()`` plus ``problem`` (plain words, or None when the device is fine);
    fault details are masked in case a driver ever put something personal in one."""
    row = device.describe()
    kind = row["kind"]
    row["fault"] = _clean_fault(row["fault"], kind)
    row["last_fault"] = _clean_fault(row["last_fault"], kind)
    state = DeviceState(row["state"])
    if row["fault"] is not None:
        row["problem"] = row["fault"]["words"]
    elif state in (DeviceState.ABSENT, DeviceState.CONNECTING):
        row["problem"] = problem(kind, state.value)
    else:
        row["problem"] = None
    if row["where"] is not None:
        row["where"] = redact_text(str(row["where"]))
    return row


def device_rows(devices: Iterable[Device]) -> list[dict[str, Any]]:
    return [device_row(d) for d in devices]


def format_row(row: dict[str, Any]) -> list[str]:
    """A device as a few lines of text for a terminal (``kiosk diag devices``)."""
    c = row["counters"]
    where = f" at {row['where']}" if row["where"] else ""

    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    lines = [
        f"{row['name']}: {row['state'].upper()}"
        + (f" - {row['problem']}" if row["problem"] else ""),
        f"  driver      {row['driver']}{where}",
        f"  counters    {count(c['operations'], 'operation')}, {count(c['faults'], 'fault')}, "
        f"{count(c['reconnects'], 'reconnect')} since {c['since']}",
    ]
    last = row["last_fault"]
    if last is not None:
        detail = f" ({last['detail']})" if last["detail"] else ""
        lines.append(f"  last fault  {last['words']}{detail} at {last['at']}")
    for fact, value in row["facts"].items():
        lines.append(f"  {fact:<11} {value}")
    return lines
