"""The outbox's delivery side: sealed personal data, batches in order, verdicts, dead letters,
purge after retention, the capacity guard, and upgrading a version-1 database in place."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.personal import PersonalKey, open_sealed
from offline.db import MIGRATIONS
from offline.outbox import OutboxError, OutboxStore, verdicts_by_seq

PERSON = {"name": "张秀英", "id_number": "11010519491231002X", "phone": "13800000000"}
T0 = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
PLATFORM = X25519PrivateKey.generate()  # the back office's personal-data key
SEAL_TO = PersonalKey.of(PLATFORM.public_key())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OutboxStore]:
    st = OutboxStore(tmp_path / "kiosk.db")
    yield st
    st.close()


def test_personal_fields_are_sealed_at_rest_and_sealed_to_the_platform_for_delivery(
    store: OutboxStore, tmp_path: Path
) -> None:
    rec = store.record("certificate", {"kind": "residence"}, personal=PERSON)
    store.close()
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("kiosk.db*"))
    assert b"residence" in raw  # the non-personal payload is there in the clear
    for value in PERSON.values():
        assert value.encode() not in raw and value.encode("gb18030") not in raw
    key = tmp_path / "keys" / "outbox.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes() not in raw

    again = OutboxStore(tmp_path / "kiosk.db")
    assert again.take_batch(10) == []  # no platform key: it waits, never sent in the clear
    assert again.status().unsealed_waiting == 1
    (item,) = again.take_batch(10, seal_to=SEAL_TO)
    assert item.uuid == rec.uuid and item.payload == {"kind": "residence"}
    assert item.sealed is not None and open_sealed(PLATFORM, item.sealed, rec.uuid) == PERSON
    held = again.transaction(rec.uuid)
    assert held is not None and held["holds_personal_data"] is True
    assert held["sealed_for_key"] == SEAL_TO.key_id and again.status().unsealed_waiting == 0
    # Sealed once: a resend carries the same bytes, whatever key is offered then.
    (resent,) = again.take_batch(10)
    assert resent.sealed == item.sealed
    again.close()


def test_a_missing_key_is_a_clear_error_not_a_new_key(store: OutboxStore, tmp_path: Path) -> None:
    store.record("certificate", {}, personal=PERSON)
    store.close()
    (tmp_path / "keys" / "outbox.key").unlink()
    with pytest.raises(OutboxError, match=r"outbox\.key is missing"):
        OutboxStore(tmp_path / "kiosk.db")
    assert not (tmp_path / "keys" / "outbox.key").exists()


def test_a_key_others_can_read_is_refused(store: OutboxStore, tmp_path: Path) -> None:
    store.close()
    os.chmod(tmp_path / "keys" / "outbox.key", 0o644)
    with pytest.raises(OutboxError, match="readable by others"):
        OutboxStore(tmp_path / "kiosk.db")


def test_a_sealed_value_moved_to_another_row_is_buried_not_delivered(
    store: OutboxStore, tmp_path: Path
) -> None:
    store.record("a", {}, personal=PERSON)
    store.record("b", {}, personal={"name": "李建国"})
    conn = sqlite3.connect(tmp_path / "kiosk.db")
    conn.execute("UPDATE transactions SET personal = (SELECT personal FROM transactions"
                 " WHERE seq = 1) WHERE seq = 2")  # fmt: skip
    conn.commit()
    conn.close()
    batch = store.take_batch(10, seal_to=SEAL_TO)
    assert [i.seq for i in batch] == [1]
    (dead,) = store.dead_letters()
    assert (dead.seq, dead.status) == (2, "unreadable")
    assert "李建国" not in repr(dead) and "张秀英" not in repr(dead)


def test_batches_go_in_sequence_order_and_verdicts_settle_them(store: OutboxStore) -> None:
    recs = [store.record("s", {"n": n}) for n in range(5)]
    batch = store.take_batch(3)
    assert [i.seq for i in batch] == [1, 2, 3]
    assert store.status().by_state["sent"] == 3
    results = {
        recs[0].uuid: ("accepted", None),
        recs[1].uuid: ("conflict", "different payload"),
    }  # no answer for the third
    ok, dead, missing = verdicts_by_seq(batch, results)
    assert (ok, dead, missing) == ([1], [(2, "conflict", "different payload")], [3])
    store.acknowledge(ok)
    store.bury(dead)
    store.release(missing)
    st = store.status()
    assert st.by_state == {"pending": 3, "sent": 0, "acknowledged": 1, "dead": 1}
    assert [i.seq for i in store.take_batch(10)] == [3, 4, 5]  # the dead one does not block
    assert store.dead_letters()[0].reason == "different payload"


def test_in_flight_items_are_taken_again_after_a_crash(tmp_path: Path) -> None:
    first = OutboxStore(tmp_path / "kiosk.db")
    first.record("s", {})
    first.take_batch(10)  # sent, then the process dies before any answer
    first.close()
    second = OutboxStore(tmp_path / "kiosk.db")
    assert [i.seq for i in second.take_batch(10)] == [1]
    second.close()


def test_personal_data_is_purged_after_acknowledgement_plus_retention(
    tmp_path: Path,
) -> None:
    store = OutboxStore(tmp_path / "kiosk.db", retention=timedelta(days=7))
    a = store.record("s", {}, personal=PERSON, now=T0)
    b = store.record("s", {}, personal=PERSON, now=T0)
    c = store.record("s", {}, personal=PERSON, now=T0)
    store.take_batch(10)
    store.acknowledge([a.seq], now=T0)
    store.bury([(b.seq, "rejected", "bad")], now=T0)
    store.release([c.seq])
    assert store.purge_personal(now=T0 + timedelta(days=6)) == 0
    assert store.purge_personal(now=T0 + timedelta(days=7, seconds=1)) == 2
    assert store.transaction(a.uuid) is None  # delivered: the row goes with its personal data
    holds = {r.uuid: store.transaction(r.uuid)["holds_personal_data"] for r in (b, c)}  # type: ignore[index]
    assert holds == {b.uuid: False, c.uuid: True}  # b stays a dead letter; c is not delivered yet
    assert store.status().sealed == 1
    store.close()


def test_capacity_guard_warns_then_refuses_without_losing_anything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    probe = OutboxStore(tmp_path / "kiosk.db")
    empty = probe.status().size_bytes
    probe.close()
    store = OutboxStore(tmp_path / "kiosk.db", max_bytes=empty + 40 * 4096)
    recorded = 0
    with pytest.raises(OutboxError, match="outbox is full"):
        for _ in range(10_000):
            store.record("s", {"filler": "x" * 2000})
            recorded += 1
    assert any("outbox at" in r.message for r in caplog.records)  # warned first, at 80 %
    st = store.status()
    assert st.total == recorded and st.capacity_warning
    store.close()


def test_a_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO transactions (uuid, service, payload, created_at)"
                 " VALUES ('u1', 'queue_ticket', '{}', '2026-01-01T00:00:00+08:00')")  # fmt: skip
    conn.execute("INSERT INTO outbox (seq) VALUES (1)")
    conn.commit()
    conn.close()
    store = OutboxStore(path)
    (item,) = store.take_batch(5)
    assert (item.uuid, item.payload) == ("u1", {})
    store.close()
