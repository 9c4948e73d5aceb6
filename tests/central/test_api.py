"""The HTTP API on SQLite and PostgreSQL: results, auth, limits, errors, heartbeat, health."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from central.api import create_app
from central.store import CentralStore
from central.tables import schema_version
from contracts.wire import MAX_PAYLOAD_BYTES
from tests.central.helpers import Kiosk, item, run_together


def batches_url(kiosk_id: str) -> str:
    return f"/v1/kiosks/{kiosk_id}/batches"


def post_batch(client: TestClient, kiosk: Kiosk, items: list[dict[str, Any]]) -> Any:
    return client.post(batches_url(kiosk.id), json={"items": items}, headers=kiosk.auth)


def statuses(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [result["status"] for result in response.json()["results"]]


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text


def test_a_batch_is_accepted_then_its_resend_is_all_duplicates(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    items = [item(n) for n in range(1, 6)]
    first = post_batch(client, kiosk, items)
    assert statuses(first) == ["accepted"] * 5
    assert [r["uuid"] for r in first.json()["results"]] == [i["uuid"] for i in items]
    assert all(r["reason"] is None for r in first.json()["results"])
    assert statuses(post_batch(client, kiosk, items)) == ["duplicate"] * 5
    assert store.count_transactions() == 5


def test_every_status_in_one_batch_in_request_order(client: TestClient, kiosk: Kiosk) -> None:
    post_batch(client, kiosk, [item(1), item(2)])
    response = post_batch(
        client,
        kiosk,
        [
            item(3),
            item(2),
            item(1, payload={"window": "changed"}),
            item(4, created_at="half past nine"),
            item(5, payload={"blob": "x" * MAX_PAYLOAD_BYTES}),
        ],
    )
    assert statuses(response) == ["accepted", "duplicate", "conflict", "rejected", "rejected"]
    results = response.json()["results"]
    assert "created_at" in results[3]["reason"]
    assert "bytes" in results[4]["reason"]


def test_transactions_listing_is_by_seq(client: TestClient, kiosk: Kiosk) -> None:
    post_batch(client, kiosk, [item(3), item(1), item(2)])
    response = client.get(
        f"/v1/kiosks/{kiosk.id}/transactions", params={"after_seq": 1}, headers=kiosk.auth
    )
    assert response.status_code == 200
    listed = response.json()["transactions"]
    assert [t["seq"] for t in listed] == [2, 3]
    assert listed[0]["payload"] == item(2)["payload"]
    assert datetime.fromisoformat(listed[0]["received_at"]).tzinfo is not None


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer wrong-token"}, 401, "unauthorized"),
        ({"Authorization": "Basic a2lvc2s6cGFzcw=="}, 401, "unauthorized"),
        ({"Authorization": "Bearer"}, 401, "unauthorized"),
    ],
    ids=["none", "wrong", "basic", "empty"],
)
def test_requests_without_a_valid_token_are_refused_and_store_nothing(
    client: TestClient,
    kiosk: Kiosk,
    store: CentralStore,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = client.post(batches_url(kiosk.id), json={"items": [item(1)]}, headers=headers)
    assert_error(response, status, code)
    assert response.headers["www-authenticate"] == "Bearer"
    assert store.count_transactions() == 0


def test_another_kiosks_token_is_forbidden(
    client: TestClient, kiosk: Kiosk, other_kiosk: Kiosk, store: CentralStore
) -> None:
    response = client.post(
        batches_url(kiosk.id), json={"items": [item(1)]}, headers=other_kiosk.auth
    )
    assert_error(response, 403, "forbidden")
    assert store.count_transactions() == 0


def test_an_unknown_kiosk_does_not_reveal_whether_it_exists(
    client: TestClient, kiosk: Kiosk
) -> None:
    stranger = {"Authorization": "Bearer not-a-token"}
    unknown = client.post(batches_url("ghost"), json={"items": [item(1)]}, headers=stranger)
    known = client.post(batches_url(kiosk.id), json={"items": [item(1)]}, headers=stranger)
    assert_error(unknown, 401, "unauthorized")
    assert unknown.json() == known.json()


def test_every_kiosk_route_needs_the_token(client: TestClient, kiosk: Kiosk) -> None:
    assert_error(client.get(f"/v1/kiosks/{kiosk.id}/transactions"), 401, "unauthorized")
    heartbeat = client.post(f"/v1/kiosks/{kiosk.id}/heartbeat", json=heartbeat_body())
    assert_error(heartbeat, 401, "unauthorized")


def test_a_body_over_the_limit_is_413_before_parsing(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    big = [item(n, payload={"blob": "x" * 30_000}) for n in range(1, 11)]  # ~300 KiB > 256 KiB
    assert_error(post_batch(client, kiosk, big), 413, "body_too_large")
    assert store.count_transactions() == 0


def test_a_streamed_body_over_the_limit_is_413_too(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    """Given a chunked body with no Content-Length, the limit is enforced while reading."""

    def chunks() -> Iterator[bytes]:
        yield b'{"items": ['
        for n in range(1, 11):
            yield json.dumps(item(n, payload={"blob": "x" * 30_000})).encode() + b","
        yield b"]}"

    response = client.post(
        batches_url(kiosk.id),
        content=chunks(),
        headers={**kiosk.auth, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "body_too_large")
    assert store.count_transactions() == 0


MALFORMED: list[tuple[str, Any]] = [
    ("not-json", b"{items: oops"),
    ("truncated", b'{"items": [{"uuid": '),
    ("not-utf8", b'{"items": "\xff\xfe"}'),
    ("too-deep", b"[" * 100_000 + b"]" * 100_000),
    ("array", []),
    ("empty-object", {}),
    ("no-items", {"items": []}),
    ("items-not-list", {"items": {"uuid": "x"}}),
    ("bad-uuid", {"items": [{**item(1), "uuid": "not-a-uuid"}]}),
    ("seq-zero", {"items": [{**item(1), "seq": 0}]}),
    ("seq-string", {"items": [{**item(1), "seq": "1"}]}),
    ("seq-float", {"items": [{**item(1), "seq": 1.5}]}),  # 1.0 is the integer 1 (JSON Schema)
    ("seq-bool", {"items": [{**item(1), "seq": True}]}),
    ("seq-huge", {"items": [{**item(1), "seq": 2**64}]}),
    ("service-upper", {"items": [{**item(1), "service": "Queue"}]}),
    ("service-long", {"items": [{**item(1), "service": "q" * 65}]}),
    ("service-empty", {"items": [{**item(1), "service": ""}]}),
    ("payload-list", {"items": [{**item(1), "payload": [1, 2]}]}),
    ("payload-null", {"items": [{**item(1), "payload": None}]}),
    ("created-at-number", {"items": [{**item(1), "created_at": 20250301}]}),
    ("missing-field", {"items": [{k: v for k, v in item(1).items() if k != "seq"}]}),
    ("one-bad-item", {"items": [item(1), item(2), {**item(3), "seq": -1}]}),
]


@pytest.mark.parametrize(("body"), [body for _, body in MALFORMED], ids=[n for n, _ in MALFORMED])
def test_a_malformed_body_is_422_and_stores_nothing(
    client: TestClient, kiosk: Kiosk, store: CentralStore, body: Any
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post(
        batches_url(kiosk.id),
        content=raw,
        headers={**kiosk.auth, "Content-Type": "application/json"},
    )
    assert_error(response, 422, "invalid_request")
    assert store.count_transactions() == 0


def test_unknown_fields_are_ignored_for_newer_terminals(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    body = {"items": [{**item(1), "shift": "morning"}], "sender": "kiosk 2.0"}
    response = client.post(batches_url(kiosk.id), json=body, headers=kiosk.auth)
    assert statuses(response) == ["accepted"]
    assert statuses(post_batch(client, kiosk, [item(1)])) == ["duplicate"]


def test_more_items_than_allowed_is_422_and_stores_nothing(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    response = post_batch(client, kiosk, [item(n) for n in range(1, 52)])  # max_items=50
    assert_error(response, 422, "invalid_request")
    assert "50" in response.json()["detail"]
    assert store.count_transactions() == 0
    assert statuses(post_batch(client, kiosk, [item(n) for n in range(1, 51)])) == ["accepted"] * 50


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415(
    client: TestClient, kiosk: Kiosk, store: CentralStore, content_type: str | None
) -> None:
    headers = dict(kiosk.auth)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(
        batches_url(kiosk.id), content=json.dumps({"items": [item(1)]}), headers=headers
    )
    assert_error(response, 415, "unsupported_media_type")
    assert store.count_transactions() == 0


def test_a_kiosk_id_that_cannot_exist_is_422(client: TestClient, kiosk: Kiosk) -> None:
    body = {"items": [item(1)]}
    response = client.post("/v1/kiosks/bad%00id/batches", json=body, headers=kiosk.auth)
    assert_error(response, 422, "invalid_request")


def test_unknown_paths_and_methods_answer_in_json(client: TestClient, kiosk: Kiosk) -> None:
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.get(batches_url(kiosk.id), headers=kiosk.auth), 405, "method_not_allowed")


def test_two_identical_batches_sent_at_once_store_each_uuid_once(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    items = [item(n) for n in range(1, 41)]
    responses = run_together(*[lambda: post_batch(client, kiosk, items)] * 2)
    both = [statuses(response) for response in responses]
    for position in range(len(items)):
        assert sorted(s[position] for s in both) == ["accepted", "duplicate"]
    assert store.count_transactions() == 40


def heartbeat_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app_version": "0.1.0",
        "devices": [
            {
                "name": "id-reader",
                "kind": "id_card",
                "driver": "sam-serial",
                "state": "ready",
                "fault_code": None,
            },
            {
                "name": "printer",
                "kind": "printer",
                "driver": "escpos-network",
                "state": "fault",
                "fault_code": "paper_out",
            },
        ],
        "queue_depth": 12,
        "sent_at": "2025-03-01T09:30:00+08:00",
    }
    body.update(changes)
    return body


def test_heartbeat_is_recorded_and_answers_with_the_server_clock(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    before = datetime.now(UTC)
    response = client.post(
        f"/v1/kiosks/{kiosk.id}/heartbeat", json=heartbeat_body(), headers=kiosk.auth
    )
    assert response.status_code == 200, response.text
    server_time = datetime.fromisoformat(response.json()["server_time"])
    assert before <= server_time <= datetime.now(UTC)
    latest = store.heartbeat(kiosk.id)
    assert latest is not None
    assert latest["queue_depth"] == 12
    assert latest["devices"][1]["fault_code"] == "paper_out"


@pytest.mark.parametrize(
    "changes",
    [
        {"queue_depth": -1},
        {"queue_depth": "3"},
        {"app_version": ""},
        {"app_version": "0.1\x00"},
        {"devices": [{"name": "x"}]},
        {"devices": "none"},
        {"sent_at": None},
    ],
)
def test_a_malformed_heartbeat_is_422(
    client: TestClient, kiosk: Kiosk, store: CentralStore, changes: dict[str, Any]
) -> None:
    response = client.post(
        f"/v1/kiosks/{kiosk.id}/heartbeat", json=heartbeat_body(**changes), headers=kiosk.auth
    )
    assert_error(response, 422, "invalid_request")
    assert store.heartbeat(kiosk.id) is None


def test_healthz_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "db": "ok"}


def test_healthz_is_503_when_the_database_is_gone(tmp_path: Any) -> None:
    store = CentralStore.open(f"sqlite:///{tmp_path / 'gone' / 'central.db'}")
    try:
        (tmp_path / "gone" / "central.db").unlink()
        (tmp_path / "gone" / "central.db-wal").unlink(missing_ok=True)
        (tmp_path / "gone" / "central.db-shm").unlink(missing_ok=True)
        (tmp_path / "gone").rmdir()
        store.engine.dispose()  # forget the pooled connection to the deleted file
        with TestClient(create_app(store)) as client:
            response = client.get("/healthz")
            assert_error(response, 503, "db_unavailable")
            kiosk = Kiosk("kiosk-001", "token")
            batch = post_batch(client, kiosk, [item(1)])
            assert_error(batch, 503, "unavailable")
            assert batch.headers["retry-after"]
    finally:
        store.close()


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert set(document["paths"]) == {
        "/v1/kiosks/{kiosk_id}/batches",
        "/v1/kiosks/{kiosk_id}/heartbeat",
        "/v1/kiosks/{kiosk_id}/transactions",
        "/v1/kiosks/{kiosk_id}/config",
        "/v1/kiosks/{kiosk_id}/config-report",
        "/v1/kiosks/{kiosk_id}/services/query",
        "/v1/kiosks/{kiosk_id}/queue/ahead",
        "/v1/queue/{prefix}/call",
        "/v1/queue/{prefix}",
        "/v1/queue",
        "/healthz",
        "/v1/certificates/{reference}",  # public: a printed certificate's verification
    }
    batch = document["paths"]["/v1/kiosks/{kiosk_id}/batches"]["post"]
    assert {"200", "401", "403", "413", "415", "422"} <= set(batch["responses"])
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_config_is_offered_as_published_with_etag_and_reports_are_kept(
    client: TestClient, store: CentralStore, kiosk: Kiosk, other_kiosk: Kiosk
) -> None:
    from central.rollout import Rollouts

    url = f"/v1/kiosks/{kiosk.id}/config"
    assert client.get(url, headers=kiosk.auth).status_code == 204  # nothing published yet
    raw = b'{"signed": {"version": 3}, "signatures": [{"keyid": "k", "sig": "s"}]}'
    Rollouts(store).publish(raw, 3, "pilot", 100)
    offered = client.get(url, headers=kiosk.auth)
    assert offered.status_code == 200 and offered.content == raw  # byte for byte, as signed
    etag = offered.headers["etag"]
    again = client.get(url, headers={**kiosk.auth, "If-None-Match": etag})
    assert again.status_code == 304
    assert client.get(url, headers=other_kiosk.auth).status_code == 403
    assert client.get(url).status_code == 401

    report = {"version": 3, "running": 3, "status": "applied", "reason": ""}
    sent = client.post(f"/v1/kiosks/{kiosk.id}/config-report", json=report, headers=kiosk.auth)
    assert sent.status_code == 200
    bad = client.post(f"/v1/kiosks/{kiosk.id}/config-report", json={"status": "exploded"},
                      headers=kiosk.auth)  # fmt: skip
    assert bad.status_code == 422
    (row,) = [r for r in Rollouts(store).status("pilot") if r["id"] == kiosk.id]
    assert (row["version"], row["status"]) == (3, "applied")


def test_a_heartbeat_carries_the_terminals_workers(
    client: TestClient, kiosk: Kiosk, store: CentralStore
) -> None:
    """The supervised workers' health is kept with the heartbeat; an older terminal sends none."""
    workers = [
        {"name": "sync", "state": "running", "restarts": 2, "fault": "crashed:OperationalError",
         "fault_at": "2026-12-05T10:00:00+08:00"},
        {"name": "idcard-sam", "state": "running", "restarts": 0, "fault": None, "fault_at": None},
    ]  # fmt: skip
    body = heartbeat_body() | {"workers": workers}
    response = client.post(f"/v1/kiosks/{kiosk.id}/heartbeat", json=body, headers=kiosk.auth)
    assert response.status_code == 200, response.text
    latest = store.heartbeat(kiosk.id)
    assert latest is not None and latest["workers"] == workers
    older = client.post(
        f"/v1/kiosks/{kiosk.id}/heartbeat", json=heartbeat_body(), headers=kiosk.auth
    )
    assert older.status_code == 200
    latest = store.heartbeat(kiosk.id)
    assert latest is not None and latest["workers"] == []


def test_a_version_4_database_gains_the_heartbeats_workers(db_url: str) -> None:
    opened = CentralStore.open(db_url)
    with opened.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE heartbeats DROP COLUMN workers")
        conn.execute(schema_version.update().values(version=4))
    opened.close()
    upgraded = CentralStore.open(db_url)
    try:
        columns = {c["name"] for c in inspect(upgraded.engine).get_columns("heartbeats")}
        assert "workers" in columns
        upgraded.record_heartbeat("k1", app_version="0.1", devices=[], queue_depth=0)
        assert upgraded.heartbeat("k1")["workers"] == []  # type: ignore[index]
    finally:
        upgraded.close()
