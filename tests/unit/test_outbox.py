"""The outbox: one durable commit per transaction, with its sequence, UUIDv7 and counter."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from offline.db import MIGRATIONS, DatabaseError, connect, schema_version
from offline.outbox import OutboxError, OutboxStore
from offline.uuid7 import timestamp_ms, uuid7


@pytest.fixture
def store(tmp_path: Path) -> OutboxStore:
    st = OutboxStore(tmp_path / "kiosk.db")
    yield st
    st.close()


def test_database_is_wal_with_full_sync(tmp_path: Path) -> None:
    conn = connect(tmp_path / "k.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert schema_version(conn) == len(MIGRATIONS)
    conn.close()


def test_record_writes_transaction_and_outbox_entry_in_one_commit(store: OutboxStore) -> None:
    rec = store.record("queue_ticket", {"option": "general"})
    assert rec.seq == 1
    assert uuid.UUID(rec.uuid).version == 7
    row = store.transaction(rec.uuid)
    assert row is not None
    assert row["state"] == "pending"
    assert row["payload"] == {"option": "general"}
    assert store.status().by_state["pending"] == 1


def test_committed_rows_survive_reopening(tmp_path: Path) -> None:
    first = OutboxStore(tmp_path / "kiosk.db")
    uuids = [first.record("queue_ticket", {"n": i}).uuid for i in range(5)]
    first.close()
    again = OutboxStore(tmp_path / "kiosk.db")
    assert [again.transaction(u)["payload"]["n"] for u in uuids] == list(range(5))  # type: ignore[index]
    assert again.record("queue_ticket", {}).seq == 6
    again.close()


def test_sequence_and_uuid_both_increase(store: OutboxStore) -> None:
    recs = [store.record("rating", {"score": 5}) for _ in range(50)]
    assert [r.seq for r in recs] == list(range(1, 51))
    assert [r.uuid for r in recs] == sorted(r.uuid for r in recs)


def test_counter_is_per_name_and_per_day(store: OutboxStore) -> None:
    day1 = datetime(2026, 11, 23, 9, 0).astimezone()
    day2 = day1 + timedelta(days=1)

    def ticket(name: str, fmt: str, when: datetime) -> str:
        rec = store.record("queue_ticket", {}, counter=name, counter_field="ticket",
                           counter_format=fmt, now=when)  # fmt: skip
        return str(rec.payload["ticket"])

    assert ticket("q:A", "A{:03d}", day1) == "A001"
    assert ticket("q:A", "A{:03d}", day1) == "A002"
    assert ticket("q:B", "B{:03d}", day1) == "B001"
    assert ticket("q:A", "A{:03d}", day2) == "A001"


def test_a_failed_record_writes_nothing(store: OutboxStore) -> None:
    with pytest.raises(OutboxError):
        store.record("queue_ticket", {"bad": object()})
    with pytest.raises(OutboxError):
        store.record("", {})
    assert store.status().total == 0
    assert store.record("queue_ticket", {}, counter="q:A").counter_value == 1


def test_refuses_a_database_from_newer_software(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(DatabaseError, match="newer than this software"):
        connect(path)


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match=str(path)):
        OutboxStore(path)


def test_uuid7_layout_and_order() -> None:
    ids = [uuid7(now_ms=4_000_000_000_000) for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert timestamp_ms(ids[0]) == 4_000_000_000_000
