"""pcscd with vsmartcard's virtual readers (vpcd) for the tests that need a real PC/SC service: one
already running, or one started here when the tests run as root (and stopped after). Without
pcscd or vpcd installed, or without root to start it, the test is skipped saying which."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from drivers.apdu import PcscError
from drivers.pcsc_reader import PcscContext
from tests.waiting import wait_for

PCSCD = shutil.which("pcscd") or next(
    (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.access(p, os.X_OK)), None
)
# Where Debian's vsmartcard-vpcd puts its driver and the reader.conf.d entry pcscd reads.
VPCD_INSTALLED = any(
    Path(p).exists()
    for p in (
        "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
        "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
        "/etc/reader.conf.d/vpcd",
    )
)
SOCKET = Path("/run/pcscd/pcscd.comm")


def service_answers() -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(SOCKET))
        except OSError:
            return False
    return True


def readers() -> list[str]:
    try:
        with PcscContext() as context:
            return context.readers()
    except PcscError:
        return []


class Pcscd:
    """The pcscd a test module uses: one already running, or one started (and then owned) here."""

    def __init__(self, reader: str) -> None:
        self.reader = reader  # the vpcd reader the tests need to see
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def owned(self) -> bool:
        return self.process is not None

    def start(self) -> None:
        assert PCSCD is not None
        self.process = subprocess.Popen(
            [PCSCD, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(lambda: self.reader in readers(), timeout=5)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=5)
            self.process = None
            wait_for(lambda: not service_answers(), timeout=2)


def pcscd_or_skip(reader: str) -> Pcscd:
    """A pcscd that shows *reader* (started when none runs), or the test is skipped: why."""
    if PCSCD is None:
        pytest.skip("pcscd is not installed (apt install pcscd)")
    if not VPCD_INSTALLED:
        pytest.skip("vsmartcard's vpcd driver is not installed (apt install vsmartcard-vpcd)")
    daemon = Pcscd(reader)
    if not service_answers():
        if os.geteuid() != 0:
            pytest.skip("pcscd is not running, and starting it needs root")
        daemon.start()
    elif reader not in readers():
        pytest.skip(f"the running pcscd has no {reader!r}: restart it after installing vpcd")
    return daemon
