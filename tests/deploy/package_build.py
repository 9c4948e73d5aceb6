"""Building the Debian packages for the deploy tests, and the checks that say why those tests
cannot run here (not root, no Debian tools, no mirror)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The marks of a test that builds the packages and installs them into a Debian 12 root.
NEEDS_ROOT_AND_DEBIAN = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="installs into a Debian root: needs root (chroot, mount, unshare)"
    ),
    pytest.mark.skipif(
        shutil.which("dpkg-deb") is None or not Path("/usr/bin/python3").exists(),
        reason="builds Debian packages: needs dpkg-deb and Debian's python3",
    ),
]


def run_logged(argv: list[str], log: Path, timeout: float) -> None:
    """Run *argv* with its output in *log*; fail the test with the log's end if it fails."""
    with log.open("w") as out:
        status = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
        ).returncode
    if status != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        pytest.fail(f"{' '.join(argv)} exited {status}:\n{tail}")


def mirror_reachable() -> bool:
    """Can this machine reach Debian's mirror (the one deploy/package-root.sh uses)? Not in a
    network of its own, as deploy/fresh-root-check.sh runs the suite."""
    script = (REPO / "deploy/package-root.sh").read_text()
    host = re.search(r"^MIRROR=http://([^/]+)/", script, re.M)
    assert host, "deploy/package-root.sh names no MIRROR"
    try:
        socket.create_connection((host.group(1), 80), timeout=5).close()
    except OSError:
        return False
    return True


def build_packages(out: Path, version: str | None = None) -> dict[str, Path]:
    """Both packages built into *out*, by name (kiosk-terminal, kiosk-central)."""
    argv = [str(REPO / "deploy/build-packages.sh"), "--out", str(out)]
    if version is not None:
        argv += ["--version", version]
    run_logged(argv, out / "build.log", 1200)
    found = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    assert set(found) == {"kiosk-terminal", "kiosk-central"}, found
    return found


def deb_version(deb: Path) -> str:
    return deb.name.split("_")[1]
