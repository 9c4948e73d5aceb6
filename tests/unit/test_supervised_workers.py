"""Nothing dies silently: a supervised worker that raises comes back after a backoff, counts the
restart and says so; the sync worker does, in its status and health, and delivers again."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from offline.outbox import OutboxStore
from offline.sync import PushResult, SyncWorker
from runtime.supervisor import WORKERS, Supervised


def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_crashing_body_is_restarted_with_its_fault_and_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    seen: list[str] = []

    def body(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) <= 2:
            raise IndexError("frame too short")
        stop.wait()

    worker = Supervised("test-body", body, base=0.01, cap=0.05)
    worker.add_listener(lambda h: seen.append(h.state))
    worker.start()
    try:
        until(lambda: len(runs) == 3 and worker.health.state == "running")
        health = worker.health
        assert (health.restarts, health.fault) == (2, "crashed:IndexError")
        assert health.fault_at is not None
        assert "restarting" in seen
        assert "worker test-body crashed; restarting" in caplog.text
        assert "IndexError: frame too short" in caplog.text  # the traceback, in the log
    finally:
        worker.stop()
    assert worker.health.state == "stopped" and len(runs) == 3


def test_a_body_that_returns_by_itself_is_a_fault_too() -> None:
    calls: list[int] = []

    def body(stop: threading.Event) -> None:
        calls.append(1)
        if len(calls) > 1:
            stop.wait()

    worker = Supervised("test-exits", body, base=0.01)
    worker.start()
    try:
        until(lambda: len(calls) == 2)
        assert worker.health.fault == "exited" and worker.health.restarts == 1
    finally:
        worker.stop()


def test_stopping_is_never_taken_for_a_crash() -> None:
    worker = Supervised("test-stop", lambda stop: stop.wait(), base=0.01)
    worker.start()
    worker.stop()
    assert worker.health.restarts == 0 and worker.health.fault is None


class FlakyClient:
    """A platform client whose first push meets an error nobody planned for."""

    def __init__(self, store: OutboxStore) -> None:
        self.store, self.pushes = store, 0

    def push(self, *, max_batches: int | None = None) -> PushResult:
        self.pushes += 1
        if self.pushes == 1:
            raise sqlite3.OperationalError("database is locked")
        return PushResult(sent=0)


def test_the_sync_worker_comes_back_after_an_unexpected_error(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db")
    client = FlakyClient(store)
    worker = SyncWorker(client, store, idle=0.05)  # type: ignore[arg-type]
    worker.worker._base = 0.05  # a short backoff for the test
    errors: list[str | None] = []
    worker.add_listener(lambda status: errors.append(status.last_error))
    worker.start()
    try:
        until(lambda: client.pushes >= 2 and worker.status.link.value == "online")
        assert "internal error (OperationalError)" in errors  # said while it restarted
        health = worker.worker.health
        assert (health.restarts, health.fault) == (1, "crashed:OperationalError")
        assert any(h.name == "sync" and h.restarts == 1 for h in WORKERS.health())
    finally:
        worker.stop()
        store.close()


def test_a_crash_shows_in_the_heartbeat(tmp_path: Path) -> None:
    """What the terminal sends the platform names each supervised worker with its restarts and
    last crash, and fits the heartbeat contract."""
    from contracts.wire import Heartbeat
    from kiosk.config.settings import load_settings
    from kiosk.platform_link.syncing import make_sync_worker

    runs: list[int] = []

    def body(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ValueError("unexpected")
        stop.wait()

    crashing = WORKERS.add(Supervised("test-heartbeat-worker", body, base=0.01))
    crashing.start()
    store = OutboxStore(tmp_path / "kiosk.db")
    try:
        until(lambda: len(runs) == 2)
        sync = make_sync_worker(store, load_settings(data_dir=tmp_path))
        assert sync.heartbeat_info is not None
        beat = Heartbeat.model_validate(sync.heartbeat_info() | {"queue_depth": 0, "sent_at": "x"})
        reports = {w.name: w for w in beat.workers}
        assert reports["test-heartbeat-worker"].restarts == 1
        assert reports["test-heartbeat-worker"].fault == "crashed:ValueError"
        assert "sync" in reports
    finally:
        crashing.stop()
        store.close()


class HeartbeatClient:
    """A platform client that keeps the heartbeats it is given."""

    def __init__(self) -> None:
        self.beats: list[dict[str, object]] = []

    def heartbeat(self, info: dict[str, object]) -> None:
        self.beats.append(info)


def test_the_heartbeat_says_how_old_the_queue_is_and_how_many_were_refused(
    tmp_path: Path,
) -> None:
    """What the operators' alerts watch: the oldest waiting record's age and the dead letters."""
    store = OutboxStore(tmp_path / "kiosk.db")
    try:
        old = store.record("queue_ticket", {"n": 1})
        store.record("queue_ticket", {"n": 2})
        (item, _) = store.take_batch(10)
        store.bury([(item.seq, "invalid", "refused")])
        assert item.uuid == old.uuid
        client = HeartbeatClient()
        worker = SyncWorker(client, store, heartbeat_info=lambda: {"app_version": "1",  # type: ignore[arg-type]
                                                                   "devices": []})  # fmt: skip
        worker._heartbeat()
        (beat,) = client.beats
        assert beat["dead_letters"] == 1 and beat["queue_depth"] == 1
        assert isinstance(beat["oldest_waiting_seconds"], float)
        assert 0 <= beat["oldest_waiting_seconds"] < 60
        from contracts.wire import Heartbeat

        Heartbeat.model_validate(beat)  # the contract takes it
    finally:
        store.close()


def test_a_job_after_shutdown_is_dropped_not_raised() -> None:
    """A technician page's timer may fire while the terminal stops: nothing to raise into the UI."""
    from kiosk.workers import Worker

    worker = Worker("test-stopped")
    worker.shutdown()
    ran: list[int] = []
    future = worker.run(lambda: ran.append(1))
    assert future.cancelled() and ran == []
