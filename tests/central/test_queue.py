"""Queue calling on the reference platform: the calling side moves a centre's queue (API and
CLI), a terminal asks how many wait ahead of its ticket, on SQLite and PostgreSQL; tokens,
hostile inputs and the day's roll-over at the platform's local midnight."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect

from central.api import create_app
from central.cli import main
from central.queue import DEFAULT_CENTRE, QueueError, Queues
from central.store import CentralStore
from central.tables import SCHEMA_VERSION, schema_version
from contracts.wire import MAX_TICKET_NUMBER, QueueAnswer, QueueQuery, split_ticket, ticket_text
from tests.central.helpers import Kiosk, run_together

DAY = date(2025, 3, 14)


class Clock:
    """The platform's local date, moved by the test."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def clock() -> Clock:
    return Clock(DAY)


@pytest.fixture
def api(store: CentralStore, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(store, max_body_bytes=64 * 1024, today=clock)) as test_client:
        yield test_client


@pytest.fixture
def caller(store: CentralStore) -> dict[str, str]:
    """A calling system of the kiosk fixtures' centre (group "pilot")."""
    return {"Authorization": f"Bearer {Queues(store).add_caller('pilot-desk', 'pilot')}"}


def ahead(api: TestClient, kiosk: Kiosk, ticket: str) -> dict[str, Any]:
    response = api.post(
        f"/v1/kiosks/{kiosk.id}/queue/ahead", json={"ticket": ticket}, headers=kiosk.auth
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    QueueAnswer.model_validate(answer)
    return answer


def refused(response: Any, status: int, words: str = "") -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert words in body["detail"]
    return str(body["detail"])


# -- the ticket's form --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticket", "parts"),
    [("A001", ("A", 1)), ("A012", ("A", 12)), ("D1000", ("D", 1000)), ("2C005", ("2C", 5)),
     ("AB999999", ("AB", 999999))],
)  # fmt: skip
def test_a_ticket_splits_into_its_prefix_and_number(ticket: str, parts: tuple[str, int]) -> None:
    assert split_ticket(ticket) == parts
    assert ticket_text(*parts) == ticket


@pytest.mark.parametrize(
    "ticket",
    ["", "A", "a012", "A12", "A0012", "A000", "A1234567", "ABCD001", "AB9Z001", "1001", "A1B",
     "A012\n", " A012", "A 012", "Ａ012", "A０12", "A-012"],
)  # fmt: skip
def test_only_what_a_terminal_prints_is_a_ticket(ticket: str) -> None:
    with pytest.raises(ValueError):
        split_ticket(ticket)
    with pytest.raises(ValueError):
        QueueQuery(ticket=ticket)


# -- calling and asking, through the HTTP app ----------------------------------------------------


def test_calling_moves_the_queue_and_the_terminal_sees_how_many_wait(
    api: TestClient, kiosk: Kiosk, caller: dict[str, str]
) -> None:
    assert ahead(api, kiosk, "A005") == {
        "ticket": "A005", "day": "2025-03-14", "serving": 0, "ahead": 4, "called": False,
    }  # fmt: skip
    first = api.post("/v1/queue/A/call", headers=caller)
    assert first.status_code == 200
    assert first.json() == {
        "centre": "pilot", "prefix": "A", "day": "2025-03-14", "serving": 1, "ticket": "A001",
    }  # fmt: skip
    assert api.post("/v1/queue/A/call", headers=caller).json()["ticket"] == "A002"
    assert ahead(api, kiosk, "A005")["ahead"] == 2
    assert ahead(api, kiosk, "A003") | {"day": ""} == {
        "ticket": "A003", "day": "", "serving": 2, "ahead": 0, "called": False,
    }  # fmt: skip
    assert ahead(api, kiosk, "A002")["called"] and ahead(api, kiosk, "A001")["ahead"] == 0
    # Each prefix is its own queue.
    assert ahead(api, kiosk, "B005")["ahead"] == 4

    corrected = api.put("/v1/queue/A", json={"serving": 10}, headers=caller)
    assert corrected.status_code == 200 and corrected.json()["ticket"] == "A010"
    assert ahead(api, kiosk, "A012")["ahead"] == 1
    back = api.put("/v1/queue/A", json={"serving": 0}, headers=caller)
    assert back.json()["serving"] == 0 and back.json()["ticket"] is None
    assert ahead(api, kiosk, "A012")["ahead"] == 11

    api.put("/v1/queue/2C", json={"serving": 999}, headers=caller)
    assert api.post("/v1/queue/2C/call", headers=caller).json()["ticket"] == "2C1000"
    board = api.get("/v1/queue", headers=caller)
    assert board.status_code == 200
    assert [(q["prefix"], q["serving"]) for q in board.json()["queues"]] == [("2C", 1000), ("A", 0)]
    assert board.json()["day"] == "2025-03-14"


def test_each_centre_has_its_own_queues(
    api: TestClient, store: CentralStore, kiosk: Kiosk, caller: dict[str, str]
) -> None:
    queues = Queues(store)
    elsewhere = {"Authorization": f"Bearer {queues.add_caller('other-desk', 'elsewhere')}"}
    lone = Kiosk("lone-01", store.add_kiosk("lone-01"))  # no group: the default centre
    default = {"Authorization": f"Bearer {queues.add_caller('default-desk')}"}
    for _ in range(3):
        api.post("/v1/queue/A/call", headers=elsewhere)
    api.post("/v1/queue/A/call", headers=default)
    assert ahead(api, kiosk, "A004")["serving"] == 0
    assert ahead(api, lone, "A004")["serving"] == 1
    assert api.post("/v1/queue/A/call", headers=caller).json()["ticket"] == "A001"
    assert [q["centre"] for q in api.get("/v1/queue", headers=elsewhere).json()["queues"]] == [
        "elsewhere"
    ]
    assert queues.serving(DEFAULT_CENTRE, "A", DAY) == 1


def test_the_day_rolls_over_at_the_platforms_midnight(
    api: TestClient, kiosk: Kiosk, caller: dict[str, str], clock: Clock
) -> None:
    for _ in range(5):
        api.post("/v1/queue/A/call", headers=caller)
    assert ahead(api, kiosk, "A007")["ahead"] == 1
    clock.day = DAY + timedelta(days=1)
    assert ahead(api, kiosk, "A007") == {
        "ticket": "A007", "day": "2025-03-15", "serving": 0, "ahead": 6, "called": False,
    }  # fmt: skip
    assert api.get("/v1/queue", headers=caller).json()["queues"] == []
    assert api.post("/v1/queue/A/call", headers=caller).json()["ticket"] == "A001"
    clock.day = DAY  # yesterday's numbers are kept, for that day only
    assert ahead(api, kiosk, "A007")["serving"] == 5


def test_a_call_past_the_highest_number_is_refused(
    api: TestClient, kiosk: Kiosk, caller: dict[str, str]
) -> None:
    api.put("/v1/queue/A", json={"serving": MAX_TICKET_NUMBER}, headers=caller)
    refused(api.post("/v1/queue/A/call", headers=caller), 409, "highest")
    assert ahead(api, kiosk, "A999999")["called"]


def test_counters_calling_at_once_get_different_numbers(store: CentralStore) -> None:
    queues = Queues(store)
    called = run_together(*[lambda: queues.call("pilot", "A", DAY) for _ in range(8)])
    assert sorted(state.serving for state in called) == list(range(1, 9))


# -- who may do what -----------------------------------------------------------------------------


def test_only_a_calling_systems_token_moves_the_queue(
    api: TestClient, store: CentralStore, kiosk: Kiosk, caller: dict[str, str]
) -> None:
    for method, url, body in [
        ("POST", "/v1/queue/A/call", None),
        ("PUT", "/v1/queue/A", {"serving": 3}),
        ("GET", "/v1/queue", None),
    ]:
        bare = api.request(method, url, json=body)
        refused(bare, 401, "Bearer")
        assert bare.headers["www-authenticate"] == "Bearer"
        refused(api.request(method, url, json=body, headers={"Authorization": "Bearer nope"}), 401)
        refused(api.request(method, url, json=body, headers=kiosk.auth), 403, "terminal")
        basic = {"Authorization": "Basic dXNlcjpwYXNz"}
        refused(api.request(method, url, json=body, headers=basic), 401)
    assert Queues(store).serving("pilot", "A", DAY) == 0
    rotated = Queues(store).add_caller("pilot-desk", rotate=True)
    refused(api.post("/v1/queue/A/call", headers=caller), 401)  # the old token is gone
    moved = api.post("/v1/queue/A/call", headers={"Authorization": f"Bearer {rotated}"})
    assert moved.json()["centre"] == "pilot"  # the centre stays with a new token


def test_only_the_kiosks_own_token_asks(
    api: TestClient, kiosk: Kiosk, other_kiosk: Kiosk, caller: dict[str, str]
) -> None:
    url = f"/v1/kiosks/{kiosk.id}/queue/ahead"
    refused(api.post(url, json={"ticket": "A001"}), 401)
    refused(api.post(url, json={"ticket": "A001"}, headers=caller), 401)
    refused(api.post(url, json={"ticket": "A001"}, headers=other_kiosk.auth), 403)


def test_a_calling_system_is_registered_once(store: CentralStore) -> None:
    queues = Queues(store)
    queues.add_caller("desk")
    with pytest.raises(QueueError, match="already registered"):
        queues.add_caller("desk")
    with pytest.raises(QueueError, match="no calling system"):
        queues.add_caller("nobody", rotate=True)


# -- hostile inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix", ["a", "AB12", "ABCD", "A1", "1", "%C3%84", "%EF%BC%A1", "A%00", "A%0A", "A%20", "-"]
)
def test_a_prefix_out_of_form_is_refused(
    api: TestClient, caller: dict[str, str], prefix: str
) -> None:
    refused(api.post(f"/v1/queue/{prefix}/call", headers=caller), 422, "prefix must be")
    refused(api.put(f"/v1/queue/{prefix}", json={"serving": 1}, headers=caller), 422, "prefix")


@pytest.mark.parametrize(
    "body",
    [{}, {"serving": -1}, {"serving": MAX_TICKET_NUMBER + 1}, {"serving": 2**70}, {"serving": "5"},
     {"serving": 5.0}, {"serving": True}, {"serving": None}, {"serving": 5, "extra": 1}, [5], 5,
     "serving", None],
)  # fmt: skip
def test_a_bad_serving_body_is_refused(api: TestClient, caller: dict[str, str], body: Any) -> None:
    refused(api.put("/v1/queue/A", content=json.dumps(body), headers=caller | JSON), 422)
    assert api.get("/v1/queue", headers=caller).json()["queues"] == []


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [{}, {"ticket": "A0012"}, {"ticket": 12}, {"ticket": "a012"}, {"ticket": "A012", "x": 1},
     {"ticket": "A" * 10_000}, {"ticket": ["A012"]}, {"ticket": "A000"}, ["A012"], None],
)  # fmt: skip
def test_a_bad_question_is_refused(api: TestClient, kiosk: Kiosk, body: Any) -> None:
    url = f"/v1/kiosks/{kiosk.id}/queue/ahead"
    detail = refused(api.post(url, content=json.dumps(body), headers=kiosk.auth | JSON), 422)
    assert "A" * 100 not in detail  # the input is not echoed back


def test_bodies_that_are_not_json_are_refused(
    api: TestClient, kiosk: Kiosk, caller: dict[str, str]
) -> None:
    url = f"/v1/kiosks/{kiosk.id}/queue/ahead"
    refused(api.post(url, content=b'{"ticket": "A012"}', headers=kiosk.auth), 415)
    refused(api.put("/v1/queue/A", content=b"serving=3", headers=caller), 415)
    refused(api.put("/v1/queue/A", content=b"{serving: 3", headers=caller | JSON), 422)
    refused(api.put("/v1/queue/A", content=b"\xff\xfe", headers=caller | JSON), 422)
    big = b'{"serving": 1, "pad": "' + b"x" * 70_000 + b'"}'
    refused(api.put("/v1/queue/A", content=big, headers=caller | JSON), 413)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=json_values
    | st.fixed_dictionaries({"serving": json_values})
    | st.fixed_dictionaries({"ticket": json_values | st.from_regex(r"[A-Z0-9]{1,4}[0-9]{0,7}")})
)
def test_arbitrary_json_never_gets_a_5xx(
    api: TestClient, kiosk: Kiosk, caller: dict[str, str], body: Any
) -> None:
    raw = json.dumps(body)
    asked = api.post(f"/v1/kiosks/{kiosk.id}/queue/ahead", content=raw, headers=kiosk.auth | JSON)
    assert asked.status_code in {200, 422}
    put = api.put("/v1/queue/A", content=raw, headers=caller | JSON)
    assert put.status_code in {200, 422}


# -- the schema and the document -----------------------------------------------------------------


def test_a_version_3_database_gains_the_queue_tables(db_url: str) -> None:
    opened = CentralStore.open(db_url)
    with opened.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE queue_serving")
        conn.exec_driver_sql("DROP TABLE queue_callers")
        conn.execute(schema_version.update().values(version=3))
    opened.close()
    upgraded = CentralStore.open(db_url)
    try:
        tables = inspect(upgraded.engine).get_table_names()
        assert {"queue_serving", "queue_callers"} <= set(tables)
        with upgraded.engine.connect() as conn:
            assert [row.version for row in conn.execute(schema_version.select())] == [
                SCHEMA_VERSION
            ]
        assert Queues(upgraded).call(DEFAULT_CENTRE, "A", DAY).serving == 1
    finally:
        upgraded.close()


def test_the_routes_are_in_the_openapi_document(api: TestClient) -> None:
    document = api.get("/openapi.json").json()
    assert {"/v1/queue/{prefix}/call", "/v1/queue/{prefix}", "/v1/queue"} <= set(document["paths"])
    assert "post" in document["paths"]["/v1/kiosks/{kiosk_id}/queue/ahead"]
    assert {"HTTPBearer", "CallingSystemBearer"} <= set(document["components"]["securitySchemes"])
    call = document["paths"]["/v1/queue/{prefix}/call"]["post"]
    assert call["security"] == [{"CallingSystemBearer": []}]
    assert {"200", "401", "403", "409", "422"} <= set(call["responses"])


# -- the command line ----------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_calls_sets_and_shows(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", db_url)
    today = date.today().isoformat()
    assert cli(capsys, "queue", "show", *db) == (0, f"nothing called on {today}\n", "")
    assert cli(capsys, "queue", "call", "A", *db) == (0, "A001\n", "")
    assert cli(capsys, "queue", "call", "A", *db) == (0, "A002\n", "")
    assert cli(capsys, "queue", "call", "A", "--group", "pilot", *db) == (0, "A001\n", "")
    assert cli(capsys, "queue", "set", "B", "12", *db) == (0, "B012\n", "")
    assert cli(capsys, "queue", "set", "C", "0", *db) == (0, "C: none called\n", "")
    code, out, _ = cli(capsys, "queue", "show", *db)
    assert code == 0
    assert [line.split() for line in out.splitlines()] == [
        ["-", "A", "A002"], ["-", "B", "B012"], ["-", "C", "None"], ["pilot", "A", "A001"],
    ]  # fmt: skip
    code, out, _ = cli(capsys, "queue", "show", "--group", "pilot", "--json", *db)
    assert [json.loads(line) for line in out.splitlines()] == [
        {"centre": "pilot", "prefix": "A", "day": today, "serving": 1, "ticket": "A001"}
    ]


def test_the_command_line_refuses_bad_input_in_one_line(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", db_url)
    for args in (("call", "a"), ("call", "ABCD"), ("set", "A", "x"), ("set", "A", "1000000"),
                 ("set", "A1", "3"), ("caller", "bad id!")):  # fmt: skip
        code, out, err = cli(capsys, "queue", *args, *db)
        assert code == 2 and out == "" and err.startswith("kiosk-central: ")
        assert len(err.splitlines()) == 1
    cli(capsys, "queue", "set", "A", str(MAX_TICKET_NUMBER), *db)
    code, _, err = cli(capsys, "queue", "call", "A", *db)
    assert code == 1 and "highest" in err and len(err.splitlines()) == 1


def test_the_callers_token_from_the_command_line_calls_over_http(
    store: CentralStore, db_url: str, kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    code, token, _ = cli(capsys, "queue", "caller", "desk-1", "--group", "pilot", "--db", db_url)
    assert code == 0
    code, _, err = cli(capsys, "queue", "caller", "desk-1", "--db", db_url)
    assert code == 1 and "already registered" in err
    with TestClient(create_app(store)) as api:
        headers = {"Authorization": f"Bearer {token.strip()}"}
        called = api.post("/v1/queue/A/call", headers=headers).json()
        assert called["centre"] == "pilot" and called["day"] == date.today().isoformat()
        answer = ahead(api, kiosk, "A003")
        assert answer["serving"] == 1 and answer["ahead"] == 1
