"""Per-token rate limits (429 with Retry-After), revocation and rotation of a terminal's token,
and the PostgreSQL pool's size (issue 15, item 5), in process. Across worker processes:
tests/central/test_scale_out.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central.api import create_app
from central.database import PoolSize
from central.limits import RateLimit, TokenBuckets
from central.store import Access, CentralStore, UnknownKioskError
from tests.central.helpers import Kiosk

HEARTBEAT = {"app_version": "1.0", "devices": [], "queue_depth": 0, "sent_at": "2026-12-05T10:00"}
# Refills one request every 1,000 s: nothing comes back within a test, whatever the machine's
# speed, so "the burst, then 429" is exact.
NO_REFILL = RateLimit(per_second=0.001, burst=3)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(RateLimit(per_second=2.0, burst=3), clock)
    assert [buckets.take(b"a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take(b"a") == pytest.approx(0.5)  # one request every half second
    assert buckets.take(b"b") == 0.0  # another token has its own bucket
    clock.now += 0.5
    assert buckets.take(b"a") == 0.0
    assert buckets.take(b"a") > 0.0
    clock.now += 60
    assert [buckets.take(b"a") for _ in range(3)] == [0.0, 0.0, 0.0]  # never past the burst
    assert buckets.take(b"a") > 0.0


def test_refilled_buckets_are_dropped_so_made_up_tokens_cost_no_memory() -> None:
    clock = Clock()
    buckets = TokenBuckets(RateLimit(per_second=10.0, burst=5), clock)
    for n in range(1000):
        buckets.take(f"made-up-{n}".encode())
    assert len(buckets) == 1000
    clock.now += 2.0  # past burst / rate: each is full again, the same as none
    buckets.take(b"one more")
    assert len(buckets) == 1


@pytest.fixture
def limited(store: CentralStore) -> Iterator[TestClient]:
    with TestClient(create_app(store, rate_limit=NO_REFILL)) as client:
        yield client


def test_a_token_past_its_burst_gets_429_with_retry_after_and_the_error_body(
    limited: TestClient, kiosk: Kiosk, other_kiosk: Kiosk
) -> None:
    url = f"/v1/kiosks/{kiosk.id}/heartbeat"
    for _ in range(NO_REFILL.burst):
        assert limited.post(url, json=HEARTBEAT, headers=kiosk.auth).status_code == 200
    refused = limited.post(url, json=HEARTBEAT, headers=kiosk.auth)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == "too_many_requests"
    # the limit is the token's: another terminal, and the platform's health, are untouched
    other = limited.post(f"/v1/kiosks/{other_kiosk.id}/heartbeat", json=HEARTBEAT,
                         headers=other_kiosk.auth)  # fmt: skip
    assert other.status_code == 200
    assert limited.get("/healthz", headers=kiosk.auth).status_code == 200


def test_a_refused_request_is_not_read_or_stored(
    limited: TestClient, store: CentralStore, kiosk: Kiosk
) -> None:
    from tests.central.helpers import item

    url = f"/v1/kiosks/{kiosk.id}/batches"
    for n in range(1, NO_REFILL.burst + 1):
        assert limited.post(url, json={"items": [item(n)]}, headers=kiosk.auth).status_code == 200
    assert limited.post(url, json={"items": [item(99)]}, headers=kiosk.auth).status_code == 429
    assert store.count_transactions(kiosk.id) == NO_REFILL.burst


def test_without_a_limit_nothing_is_refused(client: TestClient, kiosk: Kiosk) -> None:
    url = f"/v1/kiosks/{kiosk.id}/heartbeat"
    statuses = {client.post(url, json=HEARTBEAT, headers=kiosk.auth).status_code for _ in range(20)}
    assert statuses == {200}


def test_the_document_lists_429_with_retry_after_on_every_route_that_takes_a_token(
    limited: TestClient,
) -> None:
    paths = limited.get("/openapi.json").json()["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if path.startswith("/v1/"):
                answer = operation["responses"]["429"]
                assert "Retry-After" in answer["headers"], (method, path)
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}
            else:
                assert "429" not in operation["responses"], (method, path)


def test_a_revoked_token_is_refused_at_the_next_request_and_rotation_gives_a_new_one(
    client: TestClient, store: CentralStore, kiosk: Kiosk
) -> None:
    url = f"/v1/kiosks/{kiosk.id}/heartbeat"
    assert client.post(url, json=HEARTBEAT, headers=kiosk.auth).status_code == 200
    store.revoke_kiosk(kiosk.id)
    refused = client.post(url, json=HEARTBEAT, headers=kiosk.auth)
    assert refused.status_code == 401
    assert store.kiosk_revoked(kiosk.id)
    assert store.authenticate(kiosk.id, kiosk.token) is Access.UNAUTHENTICATED
    fresh = Kiosk(kiosk.id, store.add_kiosk(kiosk.id, rotate=True))
    assert not store.kiosk_revoked(kiosk.id)
    assert client.post(url, json=HEARTBEAT, headers=fresh.auth).status_code == 200
    assert client.post(url, json=HEARTBEAT, headers=kiosk.auth).status_code == 401


def test_no_token_matches_a_revoked_kiosk(store: CentralStore, kiosk: Kiosk) -> None:
    """The marker that replaces the hash is no SHA-256 hex digest, so no token, not even the
    marker itself sent as a token, opens the kiosk."""
    store.revoke_kiosk(kiosk.id)
    with store.engine.connect() as conn:
        marker = conn.exec_driver_sql(
            "SELECT token_hash FROM kiosks WHERE id = 'kiosk-001'"
        ).scalar_one()
    assert len(marker) != 64
    for token in (kiosk.token, marker, "", marker.removeprefix("revoked:")):
        assert store.authenticate(kiosk.id, token) is Access.UNAUTHENTICATED


def test_revoking_two_kiosks_keeps_the_column_unique_and_an_unknown_one_is_an_error(
    store: CentralStore, kiosk: Kiosk, other_kiosk: Kiosk
) -> None:
    store.revoke_kiosk(kiosk.id)
    store.revoke_kiosk(other_kiosk.id)
    store.revoke_kiosk(kiosk.id)  # again: still refused, still unique
    with pytest.raises(UnknownKioskError):
        store.revoke_kiosk("no-such-kiosk")


def test_many_kiosks_register_at_once_and_again_with_new_tokens(store: CentralStore) -> None:
    ids = [f"load-{n:03d}" for n in range(1, 601)]
    first = store.add_kiosks(ids, "loadtest")
    again = store.add_kiosks(ids[:10], "loadtest")
    assert store.authenticate("load-001", first["load-001"]) is Access.UNAUTHENTICATED
    assert store.authenticate("load-001", again["load-001"]) is Access.GRANTED
    assert store.authenticate("load-600", first["load-600"]) is Access.GRANTED


def test_the_postgresql_pool_has_the_size_asked_for(postgres_url: str) -> None:
    store = CentralStore.open(postgres_url, pool=PoolSize(size=3, overflow=2, timeout=1.5))
    try:
        pool = store.engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert pool._max_overflow == 2  # type: ignore[attr-defined]
        assert pool._timeout == 1.5  # type: ignore[attr-defined]
    finally:
        store.close()


def test_a_pool_with_no_connection_free_is_a_503_not_a_500(postgres_url: str) -> None:
    from central.database import DatabaseUnavailableError

    store = CentralStore.open(postgres_url, pool=PoolSize(size=1, overflow=0, timeout=0.2))
    try:
        with store.engine.connect(), pytest.raises(DatabaseUnavailableError, match="pool"):
            store.count_transactions()
    finally:
        store.close()


def test_rotate_of_an_unknown_kiosk_is_an_error(store: CentralStore) -> None:
    with pytest.raises(UnknownKioskError):
        store.add_kiosk("nobody", rotate=True)


def test_the_revoke_and_rotate_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "central", "kiosk", *args, "--db", db],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    token = cli("add", "kiosk-009").stdout.strip()
    revoked = cli("revoke", "kiosk-009")
    assert revoked.returncode == 0 and revoked.stderr.strip() == "revoked kiosk-009"
    store = CentralStore.open(db)
    try:
        assert store.authenticate("kiosk-009", token) is Access.UNAUTHENTICATED
        rotated = cli("rotate", "kiosk-009")
        assert rotated.returncode == 0
        assert store.authenticate("kiosk-009", rotated.stdout.strip()) is Access.GRANTED
    finally:
        store.close()
    unknown = cli("revoke", "nobody")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "kiosk-central: no kiosk 'nobody'"
    assert cli("rotate", "nobody").returncode == 1
