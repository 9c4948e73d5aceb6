"""A finished visit's transaction survives the process being killed right after the receipt."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

RIG = Path(__file__).with_name("visit_rig.py")
ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_after_receipt_loses_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(RIG), str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("PRINTED "), proc.stderr.read() if proc.stderr else line
        ticket = line.split()[1]
        # The printer (the sink) has the job once the driver hung up; it writes it a moment later.
        deadline = time.monotonic() + 5
        while not (tmp_path / "printer" / "last-receipt.bin").exists():
            assert time.monotonic() < deadline, "the receipt never reached the printer"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # no shutdown, no flush, no goodbye
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(tmp_path / "kiosk.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT t.service, t.payload, o.state FROM transactions t JOIN outbox o USING (seq)"
        ).fetchall()
    finally:
        conn.close()
    assert len(rows) == 1
    service, payload, state = rows[0]
    assert (service, state) == ("queue_ticket", "pending")
    assert json.loads(payload)["ticket"] == ticket == "C001"
