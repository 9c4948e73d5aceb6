"""A pty with a stable name: simulated serial devices appear at a fixed path, like a udev symlink,
and the path disappears when the device is "unplugged"."""

from __future__ import annotations

import os
import tty
from pathlib import Path


def open_linked_pty(link: Path) -> tuple[int, int]:
    """Open a raw pty, point *link* at its slave (atomically) and return (master, slave)."""
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line editing: bytes pass untouched
    tmp = link.with_name(link.name + ".new")
    tmp.unlink(missing_ok=True)
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp.symlink_to(os.ttyname(slave))
    os.replace(tmp, link)
    return master, slave


def close_linked_pty(link: Path, *fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            os.close(fd)
    link.unlink(missing_ok=True)
