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


def run_then_kill(command: list[str], after: float) -> list[str]:
    """Start *command*, wait for it to print ``ready``, let it work *after* seconds, SIGKILL it.
    Returns the complete lines it printed: a line cut by the kill has no newline and is left
    out, since what it announced may not have finished."""
    import os
    import signal
    import threading
    import time

    from tests.waiting import wait_for

    rig = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    assert rig.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(rig.stdout or ()), daemon=True)
    reader.start()
    wait_for(lambda: "ready\n" in lines or rig.poll() is not None, timeout=20)
    assert rig.poll() is None, "the rig died on its own"
    time.sleep(after)
    rig.send_signal(signal.SIGKILL)
    rig.wait()
    reader.join(timeout=5)
    rig.stdout.close()
    return [line.rstrip("\n") for line in lines if line.endswith("\n")]
