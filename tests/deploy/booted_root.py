"""A Debian root booted under systemd as PID 1 (systemd-nspawn --boot), for the deploy tests:
commands in it (nsenter into its namespaces), its units' properties and journal, screenshots of
its X display, and a poweroff that leaves nothing running.

The container has a network of its own (loopback only: its X server's abstract socket and its
platform's port stay in it). On a host without systemd it is not registered with machined.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

CLEAN_ENV = ["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]


class BootFailed(AssertionError):
    pass


def wait_until(what: str, probe: Callable[[], T | None], seconds: float) -> T:
    """Poll *probe* until it returns something true; its value. Fails saying *what* was
    awaited and the last value seen."""
    deadline = time.monotonic() + seconds
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds:.0f} s: {what} (last seen: {last!r})")


class BootedRoot:
    """*root* booted by systemd-nspawn, its console in *log*."""

    def __init__(self, root: Path, log: Path, machine: str = "kiosk-boot-test") -> None:
        self.root = root
        self.log = log
        argv = [
            "systemd-nspawn", "--boot", f"--directory={root}", f"--machine={machine}",
            "--private-network", "--console=passive",
        ]  # fmt: skip
        if not Path("/run/systemd/system").exists():
            # No systemd on this host (a CI container): no machined to register with, nor a
            # scope to ask for; the container's systemd takes this process's cgroup.
            argv += ["--register=no", "--keep-unit"]
        with log.open("wb") as out:
            self.nspawn = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.leader = wait_until("the container's init", self._find_leader, 60)

    def _find_leader(self) -> int | None:
        if self.nspawn.poll() is not None:
            said = self.log.read_text(errors="replace")[-3000:]
            raise BootFailed(f"systemd-nspawn exited {self.nspawn.returncode}:\n{said}")
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid") == str(self.nspawn.pid) and fields["NSpid"].endswith("\t1"):
                return int(pid)
        return None

    def argv(self, *argv: str, user: str | None = None) -> list[str]:
        as_user = ["runuser", "-u", user, "--"] if user else []
        enter = ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-r", "-w"]
        return [*enter, "--", *CLEAN_ENV, *as_user, *argv]

    def run(
        self, *argv: str, user: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*argv, user=user), capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip

    def must(self, *argv: str, user: str | None = None, timeout: float = 120) -> str:
        """Its standard output; the test fails with what it said when it fails."""
        result = self.run(*argv, user=user, timeout=timeout)
        assert result.returncode == 0, f"{' '.join(argv)}: {result.stdout}{result.stderr}"
        return result.stdout

    def unit(self, unit: str, *properties: str) -> dict[str, str]:
        out = self.must("systemctl", "show", unit, "-p", ",".join(properties))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def cursor(self) -> str:
        """Where the journal ends now (for journal(after=))."""
        out = self.must("journalctl", "-n", "0", "--show-cursor", "--no-pager")
        return out.strip().rsplit("-- cursor: ", 1)[-1]

    def journal(self, unit: str, after: str | None = None) -> str:
        argv = ["journalctl", "-u", unit, "--no-pager", "-o", "short-precise"]
        return self.must(*argv, *([f"--after-cursor={after}"] if after else []))

    def screenshot(self, display: str, png: Path) -> None:
        """ImageMagick's import, run here, in the container's network, where the X server's
        abstract socket is (no X authority: the session's server has none)."""
        netns = ["nsenter", "-t", str(self.leader), "-n", "--"]
        argv = [*netns, "import", "-display", display, "-window", "root", str(png)]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0 and png.exists(), result.stderr

    def poweroff(self) -> None:
        """systemctl poweroff and wait; killed if it takes too long."""
        if self.nspawn.poll() is None:
            self.run("systemctl", "poweroff", "--no-block", timeout=30)
            try:
                self.nspawn.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.kill(self.leader, signal.SIGKILL)  # the container's processes die with it
                self.nspawn.wait(timeout=30)
