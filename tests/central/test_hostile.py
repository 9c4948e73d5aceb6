"""Hostile bodies: the API answers 4xx or 200, never 5xx, and stores only valid items.

Hypothesis builds arbitrary JSON, raw bytes and near-valid batches (each field either right or
arbitrary). The TestClient re-raises any server exception, so a 5xx fails the test loudly.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.store import CentralStore
from tests.central.helpers import Kiosk

STATUSES = {"accepted", "duplicate", "conflict", "rejected"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


def either(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, valid, json_values)


near_valid_items = st.fixed_dictionaries(
    {
        "uuid": either(st.uuids().map(str)),
        "seq": either(st.integers(min_value=1, max_value=2**63 - 1)),
        "service": either(st.from_regex(r"[a-z0-9_.-]{1,64}", fullmatch=True)),
        "payload": either(st.dictionaries(st.text(max_size=8), json_values, max_size=4)),
        "created_at": either(
            st.datetimes().map(lambda moment: moment.isoformat()) | st.text(max_size=30)
        ),
    },
    optional={"extra": json_values},
)
# Well-formed items over a small pool of uuids, so duplicates and conflicts happen as well; the
# payloads may still hold NaN, lone surrogates or deep nesting (per-item rejections).
POOL = [f"0190a000-0000-7000-8000-{n:012d}" for n in range(1, 6)]
valid_items = st.fixed_dictionaries(
    {
        "uuid": st.sampled_from(POOL) | st.sampled_from(POOL).map(str.upper),
        "seq": st.integers(min_value=1, max_value=5),
        "service": st.sampled_from(["queue_ticket", "feedback"]),
        "payload": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        "created_at": st.sampled_from(["2025-03-01T09:30:00+08:00", "2025-03-01", "noon"]),
    }
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"items": st.lists(valid_items, min_size=1, max_size=5)}),
    st.fixed_dictionaries(
        {"items": st.lists(valid_items | near_valid_items, min_size=1, max_size=5)}
    ),
    st.fixed_dictionaries({"items": st.lists(near_valid_items, max_size=4)}),
    st.fixed_dictionaries({"items": json_values}),
)


def check(client: TestClient, store: CentralStore, kiosk: Kiosk, raw: bytes) -> None:
    before = store.count_transactions()
    response = client.post(
        f"/v1/kiosks/{kiosk.id}/batches",
        content=raw,
        headers={**kiosk.auth, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    assert set(response.json()) >= ({"results"} if response.status_code == 200 else {"error"})
    after = store.count_transactions()
    if response.status_code != 200:
        assert after == before
        return
    results = response.json()["results"]
    assert {r["status"] for r in results} <= STATUSES
    assert after - before == sum(r["status"] == "accepted" for r in results)
    assert len(results) == len(json.loads(raw)["items"])


def test_arbitrary_json_bodies_never_fail_the_server(
    client: TestClient, store: CentralStore, kiosk: Kiosk
) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(bodies)
    def run(body: Any) -> None:
        check(client, store, kiosk, json.dumps(body).encode())

    run()


def test_arbitrary_bytes_never_fail_the_server(
    client: TestClient, store: CentralStore, kiosk: Kiosk
) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.binary(max_size=200))
    def run(raw: bytes) -> None:
        check(client, store, kiosk, raw)

    run()


def test_arbitrary_heartbeats_never_fail_the_server(
    client: TestClient, store: CentralStore, kiosk: Kiosk
) -> None:
    device = st.fixed_dictionaries(
        {name: either(st.text(max_size=10)) for name in ("name", "kind", "driver", "state")},
        optional={"fault_code": either(st.none() | st.text(max_size=10))},
    )
    heartbeat = st.fixed_dictionaries(
        {
            "app_version": either(st.text(min_size=1, max_size=10)),
            "devices": either(st.lists(device, max_size=3)),
            "queue_depth": either(st.integers(min_value=0, max_value=2**63 - 1)),
            "sent_at": either(st.text(max_size=30)),
        }
    )

    @settings(max_examples=80, deadline=None)
    @given(heartbeat | json_values)
    def run(body: Any) -> None:
        headers = {**kiosk.auth, "Content-Type": "application/json"}
        url = f"/v1/kiosks/{kiosk.id}/heartbeat"
        response = client.post(url, content=json.dumps(body), headers=headers)
        assert response.status_code in {200, 422}, response.text

    run()
