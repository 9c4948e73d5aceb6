"""Every device loop is supervised: an unexpected error inside it (a bug, a driver that throws
what nobody expected) faults the device with ``internal_error`` while it restarts, counts the
restart, and the device comes back by itself. One test per device kind, with the simulated
devices over their real OS interfaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Device, DeviceState, DeviceStatus
from drivers.manager import DeviceManager
from kiosk.config.settings import load_settings
from runtime.supervisor import Supervised
from tests.waiting import wait_for

# device kind -> (the loop the supervisor runs, the state it comes back to)
LOOPS = {
    "id_card_reader": ("_poll", DeviceState.READY),
    "receipt_printer": ("_poll", DeviceState.READY),
    "camera": ("_run", DeviceState.READY),
    # No pcscd here: the reader's loop runs and comes back to saying the service is absent.
    "smart_card_reader": ("_run", DeviceState.ABSENT),
}


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[DeviceManager]:
    settings = load_settings()
    manager = DeviceManager.from_config(settings.simulated().device_config(), tmp_path)
    yield manager
    manager.stop()


def worker_of(device: Device) -> Supervised:
    for name in ("_worker", "_poller", "_thread"):
        found = getattr(device, name, None)
        if isinstance(found, Supervised):
            return found
    raise AssertionError(f"{device.name} has no supervised worker")


@pytest.mark.parametrize("kind", sorted(LOOPS))
def test_a_device_loop_that_throws_comes_back_and_says_so(
    devices: DeviceManager, kind: str
) -> None:
    device = next(d for d in devices.devices.values() if d.kind.value == kind)
    method, healthy = LOOPS[kind]
    original = getattr(device, method)
    calls: list[int] = []

    def throws_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise IndexError("an error nobody planned for")
        return original(*args)

    setattr(device, method, throws_once)
    seen: list[DeviceStatus] = []
    device.add_listener(seen.append)
    devices.start()
    worker = worker_of(device)
    wait_for(lambda: worker.health.restarts >= 1, timeout=15)
    assert worker.health.fault == "crashed:IndexError"
    # Said while it restarted (the device hears of the crash just after the worker counts it).
    wait_for(lambda: any(s.fault is not None and s.fault.code == "internal_error" for s in seen))
    wait_for(lambda: len(calls) >= 2 and device.status.state is healthy, timeout=20)
    assert worker.health.state == "running"


def test_the_qr_scanner_comes_back_after_an_unexpected_error() -> None:
    """The camera's analyser: an error outside one frame's decoding (the source failing under
    it) restarts its loop, and codes are read again."""

    from drivers.camera import qr_paper
    from drivers.vision import QrScanner

    picture = qr_paper("APP-2026-000123")
    calls: list[int] = []

    class Source:
        def latest_frame(self) -> tuple[int, Any]:
            calls.append(1)
            if len(calls) == 1:
                raise OSError("the camera went away under the analyser")
            return len(calls), picture

    found: list[str] = []
    scanner = QrScanner(Source(), found.append)  # type: ignore[arg-type]
    scanner.start()
    try:
        assert scanner._thread is not None
        scanner._thread._base = 0.05
        wait_for(lambda: found == ["APP-2026-000123"], timeout=10)
        health = scanner._thread.health
        assert (health.restarts, health.fault) == (1, "crashed:OSError")
    finally:
        scanner.stop()
