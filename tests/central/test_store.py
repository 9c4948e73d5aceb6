"""The platform's storage on SQLite and PostgreSQL: exactly-once ingest, auth, heartbeats."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from central.database import StoreError, database_url
from central.store import Access, CentralStore, KioskExistsError, UnknownKioskError
from central.tables import SCHEMA_VERSION, schema_version
from contracts.wire import MAX_PAYLOAD_BYTES, BatchItem, item_fingerprint
from tests.central.helpers import Kiosk, item, run_together


def incoming(n: int, **changes: Any) -> BatchItem:
    return BatchItem(**item(n, **changes))


def statuses(outcomes: list[Any]) -> list[str]:
    return [outcome.status for outcome in outcomes]


def test_new_items_are_accepted_and_a_resend_is_a_duplicate(
    store: CentralStore, kiosk: Kiosk
) -> None:
    batch = [incoming(1), incoming(2), incoming(3)]
    assert statuses(store.ingest(kiosk.id, batch)) == ["accepted"] * 3
    assert statuses(store.ingest(kiosk.id, batch)) == ["duplicate"] * 3
    held = store.transactions(kiosk.id)
    assert [(t.uuid, t.seq) for t in held] == [(i.uuid, i.seq) for i in batch]
    assert held[0].payload == batch[0].payload
    assert held[0].created_at == batch[0].created_at


@pytest.mark.parametrize(
    "change",
    [
        {"payload": {"window": "B"}},
        {"seq": 99},
        {"service": "feedback"},
        {"created_at": "2025-03-01T09:31:00+08:00"},
    ],
    ids=["payload", "seq", "service", "created_at"],
)
def test_same_uuid_with_other_content_is_a_conflict_and_never_overwrites(
    store: CentralStore, kiosk: Kiosk, change: dict[str, Any]
) -> None:
    store.ingest(kiosk.id, [incoming(1)])
    [outcome] = store.ingest(kiosk.id, [incoming(1, **change)])
    assert outcome.status == "conflict"
    assert outcome.reason
    [held] = store.transactions(kiosk.id)
    assert held.payload == incoming(1).payload
    assert held.seq == 1


def test_results_keep_request_order_across_a_mixed_batch(store: CentralStore, kiosk: Kiosk) -> None:
    store.ingest(kiosk.id, [incoming(5), incoming(6)])
    batch = [
        incoming(9),
        incoming(6, payload={"changed": True}),
        incoming(7, created_at="yesterday"),
        incoming(5),
        incoming(8),
    ]
    outcomes = store.ingest(kiosk.id, batch)
    assert [o.uuid for o in outcomes] == [i.uuid for i in batch]
    assert statuses(outcomes) == ["accepted", "conflict", "rejected", "duplicate", "accepted"]
    assert store.count_transactions(kiosk.id) == 4


def test_the_same_uuid_belongs_to_each_kiosk_separately(
    store: CentralStore, kiosk: Kiosk, other_kiosk: Kiosk
) -> None:
    assert statuses(store.ingest(kiosk.id, [incoming(1)])) == ["accepted"]
    assert statuses(store.ingest(other_kiosk.id, [incoming(1)])) == ["accepted"]
    assert store.count_transactions() == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"created_at": "not a time"}, "created_at"),
        ({"created_at": ""}, "created_at"),
        ({"payload": {"blob": "x" * MAX_PAYLOAD_BYTES}}, "bytes"),
        ({"payload": {"n": float("nan")}}, "NaN"),
        ({"payload": {"n": float("inf")}}, "NaN"),
        ({"payload": {"text": "\ud800"}}, "surrogate"),
        ({"payload": {}}, None),
    ],
    ids=["time", "empty-time", "too-large", "nan", "infinity", "surrogate", "empty-payload-ok"],
)
def test_unacceptable_items_are_rejected_and_not_stored(
    store: CentralStore, kiosk: Kiosk, change: dict[str, Any], reason: str | None
) -> None:
    [outcome] = store.ingest(kiosk.id, [incoming(1, **change)])
    if reason is None:
        assert outcome.status == "accepted"
        return
    assert outcome.status == "rejected"
    assert reason in (outcome.reason or "")
    assert store.count_transactions() == 0


def test_a_payload_nested_too_deep_is_rejected(store: CentralStore, kiosk: Kiosk) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    [outcome] = store.ingest(kiosk.id, [incoming(1, payload=deep)])
    assert outcome.status == "rejected"
    assert "nested" in (outcome.reason or "")


def test_a_payload_of_exactly_the_limit_is_accepted(store: CentralStore, kiosk: Kiosk) -> None:
    filler = "x" * (MAX_PAYLOAD_BYTES - len('{"blob":""}'))
    [outcome] = store.ingest(kiosk.id, [incoming(1, payload={"blob": filler})])
    assert outcome.status == "accepted"


def test_repeats_inside_one_batch(store: CentralStore, kiosk: Kiosk) -> None:
    """Given one batch repeating uuids, identical copies are duplicates, different ones rejected."""
    batch = [incoming(1), incoming(1), incoming(2), incoming(2, payload={"other": 1}), incoming(3)]
    outcomes = store.ingest(kiosk.id, batch)
    assert statuses(outcomes) == ["accepted", "duplicate", "rejected", "rejected", "accepted"]
    assert {t.uuid for t in store.transactions(kiosk.id)} == {batch[0].uuid, batch[4].uuid}


def test_uuids_are_compared_case_insensitively(store: CentralStore, kiosk: Kiosk) -> None:
    lower = incoming(1, payload={"a": 1})
    upper = BatchItem(**{**item(1, payload={"a": 1}), "uuid": lower.uuid.upper()})
    assert statuses(store.ingest(kiosk.id, [lower])) == ["accepted"]
    assert statuses(store.ingest(kiosk.id, [upper])) == ["duplicate"]


def test_fingerprint_covers_service_seq_payload_and_time() -> None:
    base = item_fingerprint("queue", 1, {"a": 1, "b": 2}, "2025-03-01T09:30:00+08:00")
    assert base == item_fingerprint("queue", 1, {"b": 2, "a": 1}, "2025-03-01T09:30:00+08:00")
    assert base != item_fingerprint("queue", 2, {"a": 1, "b": 2}, "2025-03-01T09:30:00+08:00")
    assert base != item_fingerprint("other", 1, {"a": 1, "b": 2}, "2025-03-01T09:30:00+08:00")
    assert base != item_fingerprint("queue", 1, {"a": 1}, "2025-03-01T09:30:00+08:00")
    assert base != item_fingerprint("queue", 1, {"a": 1, "b": 2}, "2025-03-01T09:30:01+08:00")


def test_two_resends_racing_store_each_uuid_once(store: CentralStore, kiosk: Kiosk) -> None:
    """Given two threads sending the same batch at the same instant, again and again,
    each uuid is stored once and every item is accepted by exactly one of them."""
    for round_ in range(15):
        batch = [incoming(round_ * 100 + n) for n in range(1, 41)]
        results = run_together(*[lambda: statuses(store.ingest(kiosk.id, batch))] * 2)  # noqa: B023
        for position in range(len(batch)):
            assert sorted(r[position] for r in results) == ["accepted", "duplicate"]
    assert store.count_transactions(kiosk.id) == 15 * 40


def test_racing_batches_with_different_content_give_one_accepted_one_conflict(
    store: CentralStore, kiosk: Kiosk
) -> None:
    def send(name: str) -> list[str]:
        return statuses(
            store.ingest(kiosk.id, [incoming(n, payload={"from": name}) for n in range(1, 31)])
        )

    first, second = run_together(lambda: send("a"), lambda: send("b"))
    for position in range(30):
        assert sorted([first[position], second[position]]) == ["accepted", "conflict"]
    assert store.count_transactions(kiosk.id) == 30


def test_tokens_authenticate_only_their_own_kiosk(
    store: CentralStore, kiosk: Kiosk, other_kiosk: Kiosk
) -> None:
    assert store.authenticate(kiosk.id, kiosk.token) is Access.GRANTED
    assert store.authenticate(kiosk.id, other_kiosk.token) is Access.FORBIDDEN
    assert store.authenticate("no-such-kiosk", kiosk.token) is Access.FORBIDDEN
    assert store.authenticate(kiosk.id, "guess") is Access.UNAUTHENTICATED
    assert store.authenticate("no-such-kiosk", "guess") is Access.UNAUTHENTICATED


def test_adding_a_kiosk_twice_fails_and_rotate_replaces_the_token(
    store: CentralStore, kiosk: Kiosk
) -> None:
    with pytest.raises(KioskExistsError):
        store.add_kiosk(kiosk.id)
    new_token = store.add_kiosk(kiosk.id, rotate=True)
    assert new_token != kiosk.token
    assert store.authenticate(kiosk.id, new_token) is Access.GRANTED
    assert store.authenticate(kiosk.id, kiosk.token) is Access.UNAUTHENTICATED
    with pytest.raises(UnknownKioskError):
        store.add_kiosk("never-added", rotate=True)


def test_only_a_hash_of_the_token_is_stored(store: CentralStore, kiosk: Kiosk) -> None:
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM kiosks")).scalar_one()
    assert kiosk.token not in stored
    assert len(stored) == 64


def test_heartbeat_keeps_the_latest_report(store: CentralStore, kiosk: Kiosk) -> None:
    printer = {"name": "printer", "kind": "printer", "driver": "sim", "state": "ready"}
    store.record_heartbeat(kiosk.id, app_version="0.1.0", devices=[printer], queue_depth=3)
    store.record_heartbeat(kiosk.id, app_version="0.1.1", devices=[], queue_depth=0)
    latest = store.heartbeat(kiosk.id)
    assert latest is not None
    assert (latest["app_version"], latest["devices"], latest["queue_depth"]) == ("0.1.1", [], 0)


def test_paging_and_export_order_by_seq(store: CentralStore, kiosk: Kiosk) -> None:
    store.ingest(kiosk.id, [incoming(n) for n in (5, 3, 9, 1, 7)])
    assert [t.seq for t in store.transactions(kiosk.id, after_seq=3, limit=2)] == [5, 7]
    assert [t.seq for t in store.iter_transactions(kiosk.id, page=2)] == [1, 3, 5, 7, 9]


def test_reopening_keeps_data_and_schema_version(db_url: str, kiosk: Kiosk) -> None:
    again = CentralStore.open(db_url)
    try:
        assert again.kiosk_exists(kiosk.id)
        with again.engine.connect() as conn:
            versions = conn.execute(schema_version.select()).all()
        assert [row.version for row in versions] == [SCHEMA_VERSION]
    finally:
        again.close()


def test_a_database_from_a_newer_release_is_refused(store: CentralStore, db_url: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(StoreError, match="newer"):
        CentralStore.open(db_url)


def test_sqlite_is_opened_durably(tmp_path: Any) -> None:
    store = CentralStore.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()) >= 1000
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "not a database URL"),
        ("mysql://user@localhost/db", "unsupported database"),
        ("sqlite://", "SQLite needs a file"),
        ("sqlite:///:memory:", "SQLite needs a file"),
    ],
)
def test_bad_database_urls_are_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        database_url(url)


def test_plain_postgresql_urls_use_psycopg_and_hide_the_password() -> None:
    url = database_url("postgresql://kiosk:s3cret@db.example/central")
    assert url.drivername == "postgresql+psycopg"
    assert "s3cret" not in url.render_as_string(hide_password=True)


def test_an_unreachable_postgresql_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unavailable") as caught:
        CentralStore.open("postgresql+psycopg://kiosk:s3cret@127.0.0.1:1/central")
    assert "s3cret" not in str(caught.value)
