"""Online services on the reference platform: synthetic records, code formats, check-ins, the
endpoint on SQLite and PostgreSQL, hostile bodies, and the terminal's client against a real
``kiosk-central serve``."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect

from central import services
from central.cli import main
from central.store import CentralStore, CheckIn
from central.tables import SCHEMA_VERSION, schema_version
from contracts import codes
from contracts.id_number import id_check_char
from contracts.wire import RECORD_SERVICES, ServiceAnswer, ServiceQuery
from tests.central.helpers import Kiosk, run_together

TODAY = date(2025, 3, 14)
RECORDS = sorted(RECORD_SERVICES)
AMOUNT = re.compile(r"^(0|[1-9][0-9]*)\.[0-9]{2}$")
MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def id_number(birth: str = "19850612", seq: int = 1) -> str:
    first17 = f"110105{birth}{seq:03d}"
    return first17 + id_check_char(first17)


class MemoryBook:
    """Check-ins in a dict, for the pure tests (the store's own is tested against both backends)."""

    def __init__(self) -> None:
        self.held: dict[str, CheckIn] = {}

    def check_in(self, code: str, *, day: str, counter: str, kiosk_id: str) -> CheckIn:
        if code in self.held:
            return CheckIn(False, self.held[code].position, self.held[code].checked_in_at)
        self.held[code] = CheckIn(True, len(self.held) + 1, "2025-03-14T01:30:00+00:00")
        return self.held[code]


def ask(
    service: str,
    identifier: str,
    language: str = "zh_CN",
    *,
    today: date = TODAY,
    book: MemoryBook | None = None,
) -> ServiceAnswer:
    query = ServiceQuery.model_validate(
        {"service": service, "identifier": identifier, "language": language}
    )
    return services.answer(query, today=today, book=book or MemoryBook(), kiosk_id="kiosk-001")


def values(answer: ServiceAnswer) -> dict[str, str]:
    return {field.label_en: field.value for field in answer.fields}


def first_id(service: str, status: str, birth: str = "19850612") -> str:
    for seq in range(1, 500):
        if ask(service, id_number(birth, seq)).status == status:
            return id_number(birth, seq)
    raise AssertionError(f"no {status} ID for {service}")


# -- synthetic records --------------------------------------------------------------------------


@pytest.mark.parametrize("service", RECORDS)
def test_a_resident_gets_the_same_record_every_time(service: str) -> None:
    for seq in range(1, 30):
        first, again = ask(service, id_number(seq=seq)), ask(service, id_number(seq=seq))
        assert (first.status, first.reason, first.fields) == (
            again.status,
            again.reason,
            again.fields,
        )
        assert first.reference != again.reference  # random: it must not identify the resident
    # A lower-case check character is the same person.
    lower = "11010519491231002x"
    assert ask(service, lower).fields == ask(service, lower.upper()).fields


@pytest.mark.parametrize("service", RECORDS)
def test_residents_get_different_records(service: str) -> None:
    answers = {json.dumps(values(ask(service, id_number(seq=seq)))) for seq in range(1, 30)}
    assert len(answers) > 10


@pytest.mark.parametrize(
    ("service", "labels"),
    [
        ("social_security", ["Insured status", "Contribution months", "Last contribution month",
                             "Last contribution (CNY)", "Employer type"]),
        ("medical_insurance", ["Insurance type", "Personal account balance (CNY)",
                               "Reimbursed this year (CNY)", "Status"]),
        ("housing_fund", ["Account status", "Balance (CNY)", "Monthly deposit (CNY)",
                          "Last deposit month"]),
    ],
)  # fmt: skip
def test_each_record_has_its_fields_amounts_and_months(service: str, labels: list[str]) -> None:
    for seq in range(1, 40):
        zh, en = ask(service, id_number(seq=seq)), ask(service, id_number(seq=seq), "en")
        if zh.status != "ok":
            continue
        assert zh.reason is None
        assert [f.label_en for f in en.fields] == labels
        assert [f.label_zh for f in zh.fields] == [f.label_zh for f in en.fields]
        assert all(f.label_zh and f.value for f in zh.fields)
        for field_zh, field_en in zip(zh.fields, en.fields, strict=True):
            if "(CNY)" in field_en.label_en:
                assert AMOUNT.match(field_en.value), field_en
                assert field_zh.value == field_en.value  # numbers read the same in both
                assert "元" in field_zh.label_zh
            if "month" in field_en.label_en and "months" not in field_en.label_en:
                assert MONTH.match(field_en.value), field_en
                assert field_en.value <= f"{TODAY:%Y-%m}"
        if "Contribution months" in labels:
            assert values(en)["Contribution months"].isdigit()


@pytest.mark.parametrize("service", RECORDS)
def test_some_residents_have_no_record(service: str) -> None:
    answer = ask(service, first_id(service, "not_found"), "en")
    assert (answer.status, answer.reason) == ("not_found", "no_record")
    assert values(answer) == {"Result": "No record found"}


def test_children_have_no_social_security_or_housing_fund_record() -> None:
    child = id_number("20150101")
    assert ask("social_security", child).reason == "no_record"
    assert ask("housing_fund", child).reason == "no_record"
    assert ask("medical_insurance", first_id("medical_insurance", "ok", "20150101")).status == "ok"


def test_residents_over_sixty_are_retired_and_stopped_contributing_at_sixty() -> None:
    answer = ask("social_security", first_id("social_security", "ok", "19500612"), "en")
    assert values(answer)["Insured status"] == "Retired"
    assert values(answer)["Last contribution month"] == "2010-05"


# -- codes --------------------------------------------------------------------------------------


def test_luhn_check_digit() -> None:
    assert codes.luhn_digit("7992739871") == "3"  # the textbook example
    assert codes.luhn_digit("0") == "0"


def test_sample_codes_have_the_documented_formats_and_parse_back() -> None:
    code = codes.sample_application_code(7, date(2025, 3, 1))
    assert re.fullmatch(r"APP-[0-9]{10}", code)
    assert codes.parse_application_code(code) == (date(2025, 3, 1), 7)
    code = codes.sample_appointment_code(TODAY, 42)
    assert re.fullmatch(r"APT-20250314-[0-9]{4}", code)
    assert codes.parse_appointment_code(code) == (TODAY, 42)
    assert codes.parse_appointment_code(f"  {code.lower()}\n") == (TODAY, 42)
    for bad in (0, 900):
        with pytest.raises(ValueError):
            codes.sample_appointment_code(TODAY, bad)


def flip_last(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


UNKNOWN_APPLICATIONS = [
    flip_last(codes.application_code(date(2025, 3, 1), 7)),  # check digit wrong
    codes.application_code(date(2025, 3, 1), 900),  # well-formed, never issued
    codes.application_code(date(2025, 3, 1), 0),
    codes.application_code(TODAY + timedelta(days=1), 7),  # not submitted yet
    "APP-2513010" + "00" + codes.luhn_digit("251301000"),  # month 13
    "APP-25030100",
    "APP-25030100711",
    codes.sample_appointment_code(TODAY, 1),
    "https://example.org/?APP-2503010077",
    "x",
]


@pytest.mark.parametrize("code", UNKNOWN_APPLICATIONS)
def test_invalid_or_unknown_application_codes_are_not_found(code: str) -> None:
    answer = ask("application_progress", code, "en")
    assert (answer.status, answer.reason) == ("not_found", "unknown_code")
    assert values(answer) == {"Result": "No application has this code"}


UNKNOWN_APPOINTMENTS = [
    flip_last(codes.appointment_code(TODAY, 5)),
    codes.appointment_code(TODAY, 900),
    codes.appointment_code(TODAY, 0),
    "APT-20250230-" + "001" + codes.luhn_digit("20250230001"),  # no such day
    "APT-2025031-40051",
    codes.sample_application_code(1, TODAY),
    "APT-20250314-00１5",  # a full-width digit is not a digit here
]


@pytest.mark.parametrize("code", UNKNOWN_APPOINTMENTS)
def test_invalid_or_unknown_appointment_codes_are_not_found(code: str) -> None:
    book = MemoryBook()
    # Past the wire's own checks (the full-width digit would not get this far): the format
    # check must hold on its own.
    answer = services.answer(
        ServiceQuery.model_construct(service="appointment_checkin", identifier=code, language="en"),
        today=TODAY, book=book, kiosk_id="k",
    )  # fmt: skip
    assert (answer.status, answer.reason) == ("not_found", "unknown_code")
    assert values(answer) == {"Result": "No such appointment"}
    assert book.held == {}


def test_an_application_moves_through_its_stages_and_never_back() -> None:
    code = codes.sample_application_code(3, TODAY)
    seen = []
    for days in range(0, 40):
        answer = ask("application_progress", code, "en", today=TODAY + timedelta(days=days))
        found = values(answer)
        assert answer.status == "ok"
        assert found["Submitted"] == TODAY.isoformat()
        assert found["Stages"] == "Received → Under review → Awaiting approval → Completed"
        assert TODAY <= date.fromisoformat(found["Last update"]) <= TODAY + timedelta(days=days)
        seen.append(found["Current stage"])
    assert seen[0] == "Received (1/4)"
    assert seen[-1] == "Completed (4/4)"
    order = ["Received (1/4)", "Under review (2/4)", "Awaiting approval (3/4)", "Completed (4/4)"]
    assert [order.index(stage) for stage in seen] == sorted(order.index(s) for s in seen)
    done = values(ask("application_progress", code, "en", today=TODAY + timedelta(days=40)))
    assert "Completed on" in done and "Expected completion" not in done
    zh = values(ask("application_progress", code, today=TODAY))
    assert zh["Current stage"] == "已受理（1/4）"


def test_appointment_checkin_once_then_already_checked_in() -> None:
    book = MemoryBook()
    code = codes.sample_appointment_code(TODAY, 3)
    first = ask("appointment_checkin", code, "en", book=book)
    assert (first.status, first.reason) == ("ok", None)
    found = values(first)
    assert found["Date"] == "2025-03-14" and found["Time"] == "10:00"
    assert re.fullmatch(r"[ABC]0[1-8]", found["Window"])
    assert found["Queue position"] == "1"
    again = ask("appointment_checkin", code.lower(), "en", book=book)
    assert (again.status, again.reason) == ("refused", "already_checked_in")
    assert values(again)["Queue position"] == "1"
    assert values(again)["Result"] == "Already checked in"
    assert re.fullmatch(r"[0-9]{2}:[0-9]{2}", values(again)["Checked in at"])


@pytest.mark.parametrize("day", [TODAY - timedelta(days=1), TODAY + timedelta(days=1)])
def test_an_appointment_on_another_day_is_refused_and_not_checked_in(day: date) -> None:
    book = MemoryBook()
    answer = ask("appointment_checkin", codes.sample_appointment_code(day, 3), "en", book=book)
    assert (answer.status, answer.reason) == ("refused", "not_today")
    assert values(answer)["Date"] == day.isoformat()
    assert book.held == {}


# -- the store ----------------------------------------------------------------------------------


def test_check_ins_count_arrivals_per_window_and_keep_the_first(store: CentralStore) -> None:
    day = TODAY.isoformat()
    assert store.check_in("APT-1", day=day, counter="A01", kiosk_id="k1").position == 1
    assert store.check_in("APT-2", day=day, counter="A01", kiosk_id="k2").position == 2
    assert store.check_in("APT-3", day=day, counter="B02", kiosk_id="k1").position == 1
    assert store.check_in("APT-4", day="2025-03-15", counter="A01", kiosk_id="k1").position == 1
    again = store.check_in("APT-2", day=day, counter="A01", kiosk_id="k1")
    assert (again.first, again.position) == (False, 2)


def test_racing_check_ins_of_one_code_let_exactly_one_through(store: CentralStore) -> None:
    results = run_together(
        *[
            lambda: store.check_in("APT-X", day="2025-03-14", counter="A01", kiosk_id="k")
            for _ in range(6)
        ]
    )
    assert sum(result.first for result in results) == 1
    assert {result.position for result in results} == {1}


def test_racing_check_ins_at_one_window_get_distinct_positions(store: CentralStore) -> None:
    results = run_together(
        *[
            lambda n=n: store.check_in(f"APT-{n}", day="2025-03-14", counter="A01", kiosk_id="k")
            for n in range(6)
        ]
    )
    assert sorted(result.position for result in results) == [1, 2, 3, 4, 5, 6]


def test_a_version_2_database_gains_the_check_in_table(db_url: str) -> None:
    opened = CentralStore.open(db_url)
    with opened.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE appointment_checkins")
        conn.execute(schema_version.update().values(version=2))
    opened.close()
    upgraded = CentralStore.open(db_url)
    try:
        assert "appointment_checkins" in inspect(upgraded.engine).get_table_names()
        with upgraded.engine.connect() as conn:
            assert [row.version for row in conn.execute(schema_version.select())] == [
                SCHEMA_VERSION
            ]
        assert upgraded.check_in("APT-1", day="2025-03-14", counter="A01", kiosk_id="k").first
    finally:
        upgraded.close()


# -- the endpoint -------------------------------------------------------------------------------


def query_url(kiosk_id: str) -> str:
    return f"/v1/kiosks/{kiosk_id}/services/query"


def post_query(client: TestClient, kiosk: Kiosk, body: Any) -> Any:
    return client.post(query_url(kiosk.id), json=body, headers=kiosk.auth)


def test_every_service_answers_through_the_endpoint(client: TestClient, kiosk: Kiosk) -> None:
    today = date.today()
    identifiers = {
        **{service: first_id(service, "ok") for service in RECORDS},
        "application_progress": codes.sample_application_code(5),
        "appointment_checkin": codes.sample_appointment_code(today, 5),
    }
    for service, identifier in identifiers.items():
        body = {"service": service, "identifier": identifier, "language": "en"}
        response = post_query(client, kiosk, body)
        assert response.status_code == 200, response.text
        answer = ServiceAnswer.model_validate(response.json())
        assert answer.status == "ok", (service, answer)
        assert re.fullmatch(r"Q[0-9]{8}-[0-9A-F]{8}", answer.reference)
        assert set(response.json()) == {"status", "reason", "fields", "reference"}
        assert all(set(f) == {"label_zh", "label_en", "value"} for f in response.json()["fields"])
    # language defaults to zh_CN
    body = {"service": "housing_fund", "identifier": identifiers["housing_fund"]}
    assert post_query(client, kiosk, body).json()["fields"][0]["value"] in {"正常缴存", "封存"}


def test_the_endpoint_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    route = document["paths"]["/v1/kiosks/{kiosk_id}/services/query"]["post"]
    assert {"200", "401", "403", "415", "422", "503"} <= set(route["responses"])
    assert document["components"]["schemas"]["ServiceQuery"]["additionalProperties"] is False


def test_the_second_check_in_through_the_endpoint_is_refused(
    client: TestClient, kiosk: Kiosk, other_kiosk: Kiosk
) -> None:
    code = codes.sample_appointment_code(date.today(), 9)
    body = {"service": "appointment_checkin", "identifier": code, "language": "en"}
    assert post_query(client, kiosk, body).json()["status"] == "ok"
    again = post_query(client, other_kiosk, body).json()  # on another terminal, too
    assert (again["status"], again["reason"]) == ("refused", "already_checked_in")
    unknown = {**body, "identifier": codes.appointment_code(date.today(), 999)}
    assert post_query(client, kiosk, unknown).json()["reason"] == "unknown_code"


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


def test_queries_need_the_kiosks_own_token(
    client: TestClient, kiosk: Kiosk, other_kiosk: Kiosk
) -> None:
    body = {"service": "social_security", "identifier": id_number()}
    assert_error(client.post(query_url(kiosk.id), json=body), 401, "unauthorized")
    wrong = {"Authorization": "Bearer not-a-token"}
    assert_error(client.post(query_url(kiosk.id), json=body, headers=wrong), 401, "unauthorized")
    stolen = client.post(query_url(kiosk.id), json=body, headers=other_kiosk.auth)
    assert_error(stolen, 403, "forbidden")
    # As for every kiosk route: a fleet member's token is 403 for any other id, registered or not.
    assert_error(client.post(query_url("ghost"), json=body, headers=kiosk.auth), 403, "forbidden")
    bad_id = client.post(query_url("bad id!"), json=body, headers=kiosk.auth)
    assert bad_id.status_code in {404, 422}
    assert_error(client.get(query_url(kiosk.id), headers=kiosk.auth), 405, "method_not_allowed")


BAD_QUERIES = [
    {"service": "social_security", "identifier": id_number()[:17] + "0"},  # check character
    {"service": "social_security", "identifier": "APP-2503010077"},
    {"service": "social_security", "identifier": id_number(), "language": "fr"},
    {"service": "social_security", "identifier": id_number(), "name": "张三"},
    {"service": "pension", "identifier": id_number()},
    {"service": "application_progress", "identifier": "A" * 65},
    {"service": "application_progress", "identifier": "APP 2503010077"},
    {"service": "application_progress", "identifier": ""},
    {"service": "application_progress", "identifier": 2503010077},
    {"service": "application_progress"},
    {"identifier": id_number()},
    [],
]


@pytest.mark.parametrize("body", BAD_QUERIES)
def test_invalid_queries_are_422_without_echoing_the_identifier(
    client: TestClient, kiosk: Kiosk, body: Any
) -> None:
    response = post_query(client, kiosk, body)
    assert_error(response, 422, "invalid_request")
    if isinstance(body, dict) and isinstance(body.get("identifier"), str) and body["identifier"]:
        assert body["identifier"] not in response.text


def test_a_body_that_is_not_json_is_refused(client: TestClient, kiosk: Kiosk) -> None:
    url = query_url(kiosk.id)
    raw = b'{"service": "housing_fund"'
    assert_error(client.post(url, content=raw, headers=kiosk.auth), 415, "unsupported_media_type")
    json_type = {**kiosk.auth, "Content-Type": "application/json"}
    assert_error(client.post(url, content=raw, headers=json_type), 422, "invalid_request")


def test_no_id_number_reaches_the_database_or_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    opened = CentralStore.open(f"sqlite:///{tmp_path / 'central.db'}")
    ids = [id_number(seq=seq) for seq in range(1, 11)]
    try:
        kiosk = Kiosk("kiosk-001", opened.add_kiosk("kiosk-001"))
        with TestClient(create_app_for(opened)) as client:
            for identifier in ids:
                for service in RECORDS:
                    body = {"service": service, "identifier": identifier}
                    assert post_query(client, kiosk, body).status_code == 200
                bad = {"service": "housing_fund", "identifier": identifier[:-1] + "Z"}
                assert post_query(client, kiosk, bad).status_code == 422
            for n in range(1, 6):
                code = codes.sample_appointment_code(date.today(), n)
                body = {"service": "appointment_checkin", "identifier": code}
                assert post_query(client, kiosk, body).status_code == 200
    finally:
        opened.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    assert b"APT-" in stored  # the check-ins are in the files searched
    for identifier in ids:
        for needle in (identifier, identifier[:17], identifier[6:14] + identifier[14:17]):
            assert needle.encode() not in stored
            assert needle.encode("utf-16-le") not in stored
            assert needle not in caplog.text


def create_app_for(store: CentralStore) -> Any:
    from central.api import create_app

    return create_app(store)


# -- hostile bodies -----------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VALID_IDENTIFIERS = [
    id_number(),
    id_number("19500101", 7),
    "11010519491231002x",
    codes.sample_application_code(3, TODAY),
    codes.sample_appointment_code(date.today(), 1),
    codes.appointment_code(date.today(), 950),
]
near_valid_queries = st.fixed_dictionaries(
    {
        "service": st.sampled_from(
            ["social_security", "medical_insurance", "housing_fund", "application_progress",
             "appointment_checkin"]
        ) | json_values,
        "identifier": st.sampled_from(VALID_IDENTIFIERS)
        | st.text(min_size=1, max_size=70)
        | st.from_regex(r"(APP|APT)-[0-9-]{0,16}", fullmatch=True)
        | json_values,
        "language": st.sampled_from(["zh_CN", "en"]) | json_values,
    },
    optional={"extra": json_values},
)  # fmt: skip


def check_hostile(client: TestClient, kiosk: Kiosk, raw: bytes) -> None:
    headers = {**kiosk.auth, "Content-Type": "application/json"}
    response = client.post(query_url(kiosk.id), content=raw, headers=headers)
    assert response.status_code in {200, 413, 422}, response.text
    if response.status_code == 200:
        ServiceAnswer.model_validate(response.json())
    else:
        assert set(response.json()) == {"error", "detail"}


def test_arbitrary_query_bodies_never_fail_the_server(client: TestClient, kiosk: Kiosk) -> None:
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(near_valid_queries | json_values)
    def run(body: Any) -> None:
        check_hostile(client, kiosk, json.dumps(body).encode())

    run()


def test_arbitrary_bytes_never_fail_the_query_endpoint(client: TestClient, kiosk: Kiosk) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.binary(max_size=200))
    def run(raw: bytes) -> None:
        check_hostile(client, kiosk, raw)

    run()


# -- the terminal's client ----------------------------------------------------------------------


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "parse"),
    [
        ("application", codes.parse_application_code),
        ("appointment", codes.parse_appointment_code),
    ],
)
def test_sample_codes_command_prints_valid_codes(
    kind: str, parse: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sample-codes", "--kind", kind, "--count", "4", "--date", "2025-03-01"]) == 0
    codes = capsys.readouterr().out.split()
    assert len(codes) == 4
    assert [parse(code) for code in codes] == [(date(2025, 3, 1), n) for n in range(1, 5)]


def test_sample_codes_command_refuses_what_a_code_cannot_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sample-codes", "--kind", "application", "--date", "1999-12-31"]) == 2
    assert "2000-2099" in capsys.readouterr().err
    assert main(["sample-codes", "--kind", "appointment", "--count", "900"]) == 2
