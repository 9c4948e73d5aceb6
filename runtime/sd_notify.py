"""systemd's notify protocol, spoken without libsystemd: one datagram per message to the socket
named in $NOTIFY_SOCKET (a path, or an abstract name written with a leading "@").

Outside systemd (no $NOTIFY_SOCKET) every call does nothing, so the terminal runs the same from a
shell, a test or a unit.
"""

from __future__ import annotations

import os
import socket


def _address() -> str | None:
    raw = os.environ.get("NOTIFY_SOCKET")
    if not raw:
        return None
    return "\0" + raw[1:] if raw.startswith("@") else raw


def notify(*fields: str) -> bool:
    """Send ``READY=1``, ``WATCHDOG=1``, ``STATUS=...``, one datagram; True when sent."""
    address = _address()
    if address is None:
        return False
    message = "\n".join(fields).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message, address)
    except OSError:
        return False  # the manager went away: nothing to tell, nothing to fail
    return True


def watchdog_seconds() -> float | None:
    """The unit's WatchdogSec when it applies to this process, else None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None  # meant for a parent (a wrapper script that exec'd us would have our pid)
    return int(usec) / 1_000_000
