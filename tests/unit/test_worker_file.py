"""The running terminal keeps its workers' health in the data directory, so `kiosk diag devices`
in another process can say which loop crashed and came back, and whether the terminal runs."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from click.testing import CliRunner

from kiosk.cli.common import cli
from kiosk.technician.worker_file import format_workers, keep_worker_file, read_worker_file
from runtime.supervisor import WORKERS, Supervised
from tests.waiting import wait_for


def test_a_crash_and_its_recovery_reach_the_file_and_the_command_line(tmp_path: Path) -> None:
    runs: list[int] = []

    def body(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise KeyError("receipt_qr")
        stop.wait()

    keep_worker_file(tmp_path)
    worker = WORKERS.add(Supervised("test-file-worker", body, base=0.01))
    worker.start()
    try:
        wait_for(lambda: len(runs) == 2 and worker.health.state == "running")
        body_read = read_worker_file(tmp_path)
        assert body_read is not None and body_read["running"] is True
        (mine,) = [w for w in body_read["workers"] if w["name"] == "test-file-worker"]
        found = (mine["state"], mine["restarts"], mine["fault"])
        assert found == ("running", 1, "crashed:KeyError")
        lines = format_workers(body_read)
        assert lines[0].startswith("workers of the running terminal")
        assert any("test-file-worker: running, restarted 1 time(s); last crash crashed:KeyError"
                   in line for line in lines)  # fmt: skip
        result = CliRunner().invoke(cli, ["diag", "devices", "--simulate", "--data-dir",
                                          str(tmp_path), "--wait", "0"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "test-file-worker: running, restarted 1 time(s)" in result.output
    finally:
        worker.stop()


def test_a_file_from_a_terminal_that_is_gone_says_so(tmp_path: Path) -> None:
    (tmp_path / "workers.json").write_text(
        json.dumps({"pid": 2**22 + 12345, "written_at": "2026-12-05T09:00:00+08:00",
                    "workers": [{"name": "sync", "state": "running", "restarts": 0}]}),
        "utf-8",
    )  # fmt: skip
    found = read_worker_file(tmp_path)
    assert found is not None and found["running"] is False
    assert "not running now" in format_workers(found)[0]
    assert read_worker_file(tmp_path / "nowhere") is None
