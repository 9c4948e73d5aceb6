"""A real ``kiosk-central serve`` process on a free loopback port, with a registered terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Platform:
    url: str
    db_url: str
    kiosk_id: str
    token: str
    process: subprocess.Popen[str]

    def export(self) -> list[dict[str, Any]]:
        out = central("export", "--kiosk", self.kiosk_id, "--db", self.db_url)
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def central(*args: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "central", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res.stdout


@contextmanager
def platform_process(
    folder: Path, kiosk_id: str = "kiosk-test-001", db_url: str | None = None
) -> Iterator[Platform]:
    db_url = db_url or f"sqlite:///{folder / 'central.db'}"
    token = central("kiosk", "add", kiosk_id, "--db", db_url).strip().splitlines()[-1]
    proc = start_server(db_url, log=folder / "central.log")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        yield Platform(line.removeprefix("listening on "), db_url, kiosk_id, token, proc)
    finally:
        stop_server(proc)


def start_server(db_url: str, port: int = 0, *, log: Path | None = None) -> subprocess.Popen[str]:
    # The server's log goes to a file: a pipe nobody reads fills up and stalls the server.
    log = log or Path(db_url.removeprefix("sqlite:///")).with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "central", "serve", "--db", db_url, "--port", str(port)],
            stdout=subprocess.PIPE, stderr=sink, text=True,
        )  # fmt: skip


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
