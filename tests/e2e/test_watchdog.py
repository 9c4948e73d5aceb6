"""The systemd notify protocol as systemd would hear it: the real `kiosk run` full screen on Xvfb
with a notify socket of the test's own (NOTIFY_SOCKET, WATCHDOG_USEC as a Type=notify unit with
WatchdogSec sets them). READY=1 comes once the attract screen is on the screen; WATCHDOG=1
arrives while the terminal is healthy, stops within the watchdog period while the main thread is
blocked (the KIOSK_DEBUG_HANG_FILE drill), and resumes after; STOPPING=1 on SIGTERM."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from Xlib import X, display

from tests.e2e.x11 import SCREEN, Terminal

WATCHDOG_SEC = 2.0


@dataclass
class NotifySocket:
    """A datagram socket like systemd's, recording what arrives and when; on READY=1 it looks
    at the screen through its own X connection."""

    path: Path
    display_name: str
    heard: list[tuple[float, str]] = field(default_factory=list)
    screen_at_ready: Image.Image | None = None

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="notify-socket")
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            now = time.monotonic()
            for line in data.decode().splitlines():
                if line == "READY=1" and self.screen_at_ready is None:
                    self.screen_at_ready = self._look()  # before READY=1 is seen as heard
                self.heard.append((now, line))

    def _look(self) -> Image.Image:
        x = display.Display(self.display_name)
        try:
            raw = x.screen().root.get_image(0, 0, *SCREEN, X.ZPixmap, 0xFFFFFFFF)
            return Image.frombytes("RGB", SCREEN, raw.data, "raw", "BGRX")
        finally:
            x.close()

    def times(self, message: str, since: float = 0.0) -> list[float]:
        return [t for t, line in list(self.heard) if line == message and t >= since]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def notify(tmp_path: Path, xdisplay: str) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify.sock", xdisplay)
    yield sock
    sock.close()


def wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_ready_after_the_first_paint_pings_while_healthy_and_none_while_hung(
    xdisplay: str, tmp_path: Path, artifacts: Path, notify: NotifySocket
) -> None:
    hang = tmp_path / "hang"
    term = Terminal(
        xdisplay, tmp_path / "data", artifacts / "e2e" / "watchdog",
        extra_env={
            "NOTIFY_SOCKET": str(notify.path),
            "WATCHDOG_USEC": str(int(WATCHDOG_SEC * 1_000_000)),
            "KIOSK_DEBUG_HANG_FILE": str(hang),
        },
    )  # fmt: skip
    try:
        term.start()
        wait(lambda: notify.times("READY=1"), 30, "READY=1")
        ready = notify.times("READY=1")[0]
        # READY=1 once the attract screen is painted: what the X server showed at that moment.
        picture = notify.screen_at_ready
        assert picture is not None
        term.artifacts.mkdir(parents=True, exist_ok=True)
        picture.save(term.artifacts / "screen-at-ready.png")
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20) or []
        black = sum(n for n, rgb in colours if rgb == (0, 0, 0))
        assert black < SCREEN[0] * SCREEN[1] * 0.05, "READY=1 before the attract screen showed"
        assert len(colours) > 20, "the screen at READY=1 is not the attract screen"

        # Healthy: pings every third of the period.
        time.sleep(WATCHDOG_SEC * 2)
        pings = notify.times("WATCHDOG=1", since=ready)
        assert len(pings) >= 4, pings
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert max(gaps) < WATCHDOG_SEC, gaps

        # Hung: the main thread blocks; no ping arrives for well over the period.
        hang.touch()
        time.sleep(WATCHDOG_SEC)  # the last ping before the hang had to come within a third
        hung_from = time.monotonic()
        time.sleep(WATCHDOG_SEC * 2)
        assert notify.times("WATCHDOG=1", since=hung_from) == []

        # Unblocked: the pings come back (systemd would have restarted it by now).
        hang.unlink()
        back = time.monotonic()
        wait(lambda: notify.times("WATCHDOG=1", since=back), WATCHDOG_SEC, "pings again")
    finally:
        hang.unlink(missing_ok=True)
        term.stop()
    assert notify.times("STOPPING=1"), "SIGTERM stops the terminal with STOPPING=1"
