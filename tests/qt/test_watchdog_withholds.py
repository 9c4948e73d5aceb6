"""The watchdog withholds its pings while a supervised worker has lost its thread (a supervisor
that itself broke), and says why in the unit's status; runtime/sd_notify.py speaks the protocol
to a socket of the test's own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kiosk.watchdog import Watchdog
from runtime.sd_notify import notify, watchdog_seconds
from runtime.supervisor import Registry, Supervised

Heard = Callable[[], list[str]]


@pytest.fixture
def heard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Heard]:
    """Everything sent to a notify socket of the test's own so far, one line a field."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    lines: list[str] = []

    def so_far() -> list[str]:
        while True:
            try:
                lines.extend(sock.recv(4096).decode().splitlines())
            except BlockingIOError:
                return list(lines)

    yield so_far
    sock.close()


def test_notify_reaches_the_socket_and_the_period_is_read(
    heard: Heard, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert notify("READY=1", "STATUS=running")
    assert heard() == ["READY=1", "STATUS=running"]
    monkeypatch.setenv("WATCHDOG_USEC", "3000000")
    assert watchdog_seconds() == 3.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # another process's watchdog
    assert watchdog_seconds() is None
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert notify("READY=1") is False


def test_a_worker_whose_thread_is_gone_stops_the_pings(qtbot: QtBot, heard: Heard) -> None:
    registry = Registry()
    release = threading.Event()
    worker = registry.add(Supervised("demo", lambda stop: release.wait()))
    worker.start()
    dog = Watchdog(registry, period=0.3)
    dog.start()
    qtbot.waitUntil(lambda: heard().count("WATCHDOG=1") >= 3, timeout=3000)

    # The supervisor's own thread ends without anyone stopping it (as if it had broken).
    worker._thread = threading.Thread(target=lambda: None)  # type: ignore[attr-defined]
    worker._thread.start()  # type: ignore[attr-defined]
    worker._thread.join()  # type: ignore[attr-defined]
    assert registry.dead() == ["demo"]
    qtbot.waitUntil(lambda: any("worker thread gone: demo" in s for s in heard()), timeout=3000)
    before = heard().count("WATCHDOG=1")
    qtbot.wait(800)
    assert heard().count("WATCHDOG=1") == before
    dog.stop()
    release.set()
    worker.stop()
    assert registry.dead() == []  # stopped on purpose is not dead
