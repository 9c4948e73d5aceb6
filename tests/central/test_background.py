"""The server's rounds (central/background.py): the KPI roll-up and the alerts run beside the
API, a failing round is logged and the next one runs, and serve refuses a bad rules file in one
line before it listens."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from central import background
from central.alerts import Rules
from central.kpi import Filter, report
from central.store import CentralStore
from contracts.wire import BatchItem
from tests.central.test_central_cli import run_cli


def test_rounds_roll_up_and_survive_a_failing_round(
    store: CentralStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store.add_kiosk("kiosk-a")
    visit = {"record": "visit_metrics", "visit_id": "c" * 32, "service": "feedback", "steps": [],
             "seconds": 9.0, "completed": True, "ended": "finished", "ended_at": "goodbye",
             "faults": [], "elder": False, "language": "zh_CN"}  # fmt: skip
    store.ingest("kiosk-a", [BatchItem.model_validate({
        "uuid": "0190a000-0000-7000-8000-000000000001", "seq": 1, "service": "visit_metrics",
        "payload": visit, "created_at": "2026-11-02T10:00:00+08:00"})])  # fmt: skip
    real = background.one_round
    calls: list[int] = []

    def first_fails(store: CentralStore, rules: Rules) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a round nobody planned for")
        real(store, rules)

    monkeypatch.setattr(background, "one_round", first_fails)
    monkeypatch.setattr(background.kpi, "SETTLE_SECONDS", 0.0)
    stop = threading.Event()
    with caplog.at_level(logging.ERROR, logger="central.background"):
        thread = background.start_rounds(store, Rules(), stop, every=0.05)
        for _ in range(200):
            if report(store, Filter())["total"]["visits"] == 1:
                break
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=5)
    assert report(store, Filter())["total"]["visits"] == 1
    assert len(calls) >= 2 and "round failed (1 in a row)" in caplog.text


def test_serve_refuses_a_bad_rules_file(tmp_path: Path) -> None:
    bad = tmp_path / "alerts.toml"
    bad.write_text("[rules]\nofline_minutes = 3\n")
    done = run_cli("serve", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--port", "0",
                   "--alerts", str(bad))  # fmt: skip
    assert done.returncode == 1 and "unknown rule 'ofline_minutes'" in done.stderr
    assert "Traceback" not in done.stderr and "listening" not in done.stdout
