"""Running a ``kiosk sim ...`` simulator in its own process for the length of a test."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def kiosk_simulator(*args: str) -> Iterator[str]:
    """Start ``kiosk sim ARGS``; yield the address it prints; stop it with SIGTERM afterwards."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "sim", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sim.stdout is not None
        yield sim.stdout.readline().strip()
    finally:
        sim.terminate()
        sim.wait(timeout=10)
        if sim.stdout is not None:
            sim.stdout.close()
