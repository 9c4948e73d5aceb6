"""The terminal's service-query client (offline/services_client.py) against a real platform
process, an unreachable one, and answers it must not trust."""

from __future__ import annotations

import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from contracts import codes
from offline.services_client import ServiceQueryClient, parse_answer
from offline.sync import RefusedError, TransientError
from tests.central.test_online_services import ask, first_id, id_number
from tests.platform_process import central, platform_process


def test_the_terminal_client_against_a_real_platform(tmp_path: Path) -> None:
    with platform_process(tmp_path) as platform:
        client = ServiceQueryClient(platform.url, platform.kiosk_id, platform.token, timeout=10)
        identifier = first_id("medical_insurance", "ok")
        answer = client.query("medical_insurance", identifier, "en")
        assert answer.ok and answer.reason is None
        assert answer.fields[0].label("en") == "Insurance type"
        assert answer.fields[0].label("zh_CN") == "险种"
        expected = ask("medical_insurance", identifier, "en", today=date.today())
        assert [(f.label_en, f.value) for f in answer.fields] == [
            (f.label_en, f.value) for f in expected.fields
        ]
        code = codes.sample_appointment_code(date.today(), 11)
        assert client.query("appointment_checkin", code).ok
        again = client.query("appointment_checkin", code)
        assert (again.status, again.reason) == ("refused", "already_checked_in")

        with pytest.raises(RefusedError, match="not a valid social_security query") as invalid:
            client.query("social_security", identifier[:-1] + "Z")
        assert identifier[:-1] not in str(invalid.value)
        stranger = ServiceQueryClient(platform.url, platform.kiosk_id, "wrong", timeout=10)
        with pytest.raises(RefusedError, match="HTTP 401"):
            stranger.query("social_security", identifier)
    # The platform is gone: the terminal falls back to its offline path.
    with pytest.raises(TransientError) as gone:
        client.query("social_security", identifier)
    assert identifier not in str(gone.value)


def test_the_client_treats_an_unreachable_platform_as_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ServiceQueryClient(f"http://127.0.0.1:{port}", "kiosk-001", "t", timeout=2)
    with pytest.raises(TransientError):
        client.query("housing_fund", id_number())


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"status": "ok", "fields": [], "reference": 5},
        {"status": "maybe", "fields": [], "reference": "Q"},
        {"status": "ok", "fields": {}, "reference": "Q"},
        {"status": "ok", "fields": [{"label_zh": "a", "label_en": "b"}], "reference": "Q"},
        {"status": "ok", "reason": 3, "fields": [], "reference": "Q"},
    ],
)
def test_a_garbled_answer_is_transient(body: Any) -> None:
    with pytest.raises(TransientError):
        parse_answer(body)


def test_a_newer_platform_may_add_to_an_answer() -> None:
    body = {
        "status": "ok", "reason": None, "reference": "Q1", "more": 1,
        "fields": [{"label_zh": "甲", "label_en": "A", "value": "1", "hint": "x"}],
    }  # fmt: skip
    answer = parse_answer(body)
    assert answer.ok and answer.fields[0].value == "1"


def test_the_terminal_asks_how_many_wait_ahead_of_its_ticket(tmp_path: Path) -> None:
    """The calling side moves the queue (here the platform's CLI); the terminal's client reads
    the people ahead of a ticket it printed."""
    with platform_process(tmp_path) as platform:
        client = ServiceQueryClient(platform.url, platform.kiosk_id, platform.token, timeout=10)
        first = client.queue_ahead("A012")
        assert (first.serving, first.ahead, first.called) == (0, 11, False)
        central("queue", "set", "A", "7", "--db", platform.db_url)
        moved = client.queue_ahead("A012")
        assert (moved.serving, moved.ahead) == (7, 4)
        assert client.queue_ahead("A005").called
        with pytest.raises(RefusedError, match="not a ticket number"):
            client.queue_ahead("12A")
        stranger = ServiceQueryClient(platform.url, platform.kiosk_id, "wrong", timeout=10)
        with pytest.raises(RefusedError, match="HTTP 401"):
            stranger.queue_ahead("A012")
