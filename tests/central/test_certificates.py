"""Certificates: the terminals' certificate records kept by reference, the public verification
endpoint and page (valid: kind, time of issue, holder masked; forged or altered: refused), the
records the platform refuses to keep, the upgrade that keeps those received before, and the
endpoint held to its OpenAPI document by schemathesis. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from sqlalchemy import delete, select

from central.api import create_app
from central.store import CentralStore
from central.tables import certificates, schema_version
from contracts.certificates import ALPHABET, new_reference, normalise_reference
from tests.central.helpers import Kiosk, item
from tests.central.test_openapi_truth import stop_asgi_portal  # noqa: F401  (fixture)

ISSUED = "2026-05-12T10:31:07+08:00"


def record(reference: str, **changes: Any) -> dict[str, Any]:
    payload = {
        "record": "certificate", "visit_id": "0123456789abcdef0123456789abcdef",
        "kind": "insured_certificate", "title_zh": "参保证明", "title_en": "Proof of insurance",
        "reference": reference, "holder_name": "张*英", "holder_id": "1101**********0029",
        "language": "zh_CN", **changes,
    }  # fmt: skip
    return item(1, service="certificate", payload=payload, created_at=ISSUED)


def deliver(client: TestClient, kiosk: Kiosk, *items: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.post(f"/v1/kiosks/{kiosk.id}/batches", json={"items": list(items)},
                         headers=kiosk.auth)  # fmt: skip
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def altered(reference: str, at: int = 7) -> str:
    """One digit changed, as a forger editing a real certificate's QR would."""
    digit = reference[at]
    other = ALPHABET[(ALPHABET.index(digit) + 1) % len(ALPHABET)]
    return reference[:at] + other + reference[at + 1 :]


def test_a_recorded_certificate_verifies_with_what_its_paper_says(
    client: TestClient, kiosk: Kiosk
) -> None:
    reference = new_reference()
    assert deliver(client, kiosk, record(reference))[0]["status"] == "accepted"
    answer = client.get(f"/v1/certificates/{reference}")  # public: no token
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "valid": True, "reference": reference, "kind": "insured_certificate",
        "title": {"zh_CN": "参保证明", "en": "Proof of insurance"}, "issued_at": ISSUED,
        "holder": {"name": "张*英", "id_number": "1101**********0029"},
    }  # fmt: skip
    # A resend is a duplicate, and the certificate stays as it was.
    assert deliver(client, kiosk, record(reference))[0]["status"] == "duplicate"
    assert client.get(f"/v1/certificates/{reference}").json()["issued_at"] == ISSUED


def test_a_forged_or_altered_reference_is_refused(client: TestClient, kiosk: Kiosk) -> None:
    reference = new_reference()
    deliver(client, kiosk, record(reference))
    # Every single-digit change of the body is refused (by its check digits, or as unknown).
    for at in range(1, len(reference)):
        changed = altered(reference, at)
        answer = client.get(f"/v1/certificates/{changed}")
        assert answer.status_code == 404, (at, answer.text)
        assert set(answer.json()) == {"error", "detail"}
    forged = new_reference()  # well formed, check digits right, never issued
    answer = client.get(f"/v1/certificates/{forged}")
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": "no certificate has this reference"}
    # A changed check digit always fails the check: told apart from an unknown reference.
    check_changed = client.get(f"/v1/certificates/{altered(reference, len(reference) - 1)}")
    assert check_changed.status_code == 404 and "check digits" in check_changed.json()["detail"]
    # Not a reference's shape at all: a 422 like every malformed request.
    shape = client.get("/v1/certificates/C123")
    assert shape.status_code == 422 and set(shape.json()) == {"error", "detail"}


def test_the_public_page_says_valid_in_chinese_and_english(
    client: TestClient, kiosk: Kiosk
) -> None:
    reference = new_reference()
    deliver(client, kiosk, record(reference))
    # A reference typed by hand: lower case, in groups.
    typed = "-".join(reference[i : i + 5] for i in range(0, len(reference), 5)).lower()
    page = client.get(f"/v/{typed}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert 'data-valid="true"' in text and "有效证明" in text and "Valid certificate" in text
    for shown in ("参保证明", "Proof of insurance", "2026-05-12 10:31", "张*英",
                  "1101**********0029", reference):  # fmt: skip
        assert shown in text, shown
    # Served whole by the platform: nothing fetched from elsewhere, nothing cached on the way.
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("how", ["altered", "forged", "garbage"])
def test_the_public_page_refuses_what_was_not_issued(
    client: TestClient, kiosk: Kiosk, how: str
) -> None:
    reference = new_reference()
    deliver(client, kiosk, record(reference))
    shown = {"altered": altered(reference), "forged": new_reference(),
             "garbage": "<img src=x onerror=alert(1)>"}[how]  # fmt: skip
    page = client.get(f"/v/{shown}")
    assert page.status_code == 404
    assert 'data-valid="false"' in page.text and "无效" in page.text and "Not valid" in page.text
    assert "<img" not in page.text  # what was typed is shown escaped
    assert "张*英" not in page.text


def test_a_title_is_escaped_on_the_page(client: TestClient, kiosk: Kiosk) -> None:
    reference = new_reference()
    deliver(client, kiosk, record(reference, title_en="<b>Proof</b> & co"))
    page = client.get(f"/v/{reference}").text
    assert "&lt;b&gt;Proof&lt;/b&gt; &amp; co" in page and "<b>Proof" not in page


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"holder_id": "110101199003070029"}, "holder_id"),  # a whole ID number: never kept
        ({"holder_name": "张秀英"}, "holder_name"),  # a whole name
        ({"reference": "C" + "0" * 26}, "check digits"),
        ({"reference": "not-a-reference"}, "reference"),
    ],
)
def test_a_certificate_record_the_page_could_not_show_is_refused(
    client: TestClient, kiosk: Kiosk, store: CentralStore, changes: dict[str, Any], says: str
) -> None:
    (result,) = deliver(client, kiosk, record(**{"reference": new_reference(), **changes}))
    assert result["status"] == "rejected" and says in result["reason"]
    assert "110101199003070029" not in result["reason"] and "张秀英" not in result["reason"]
    with store._read() as conn:
        assert conn.execute(select(certificates)).first() is None


def test_an_upgrade_keeps_the_certificates_received_before_it(db_url: str) -> None:
    """Given a platform at schema 6 that stored a newer terminal's certificate record only as a
    transaction, when it is upgraded, then the certificate verifies."""
    reference = new_reference()
    store = CentralStore.open(db_url)
    kiosk = Kiosk("kiosk-001", store.add_kiosk("kiosk-001"))
    with TestClient(create_app(store)) as client:
        deliver(client, kiosk, record(reference))
    with store._write() as conn:
        conn.execute(delete(certificates))
        conn.execute(schema_version.update().values(version=6))
    store.close()
    upgraded = CentralStore.open(db_url)
    try:
        with TestClient(create_app(upgraded)) as client:
            assert client.get(f"/v1/certificates/{reference}").status_code == 200
    finally:
        upgraded.close()


def test_references_are_random_and_their_check_digits_catch_a_changed_digit() -> None:
    drawn = {new_reference() for _ in range(2000)}
    assert len(drawn) == 2000 and all(normalise_reference(r) == r for r in drawn)
    caught = sum(normalise_reference(altered(r)) is None for r in drawn)
    assert caught >= 0.99 * len(drawn)  # 10 check bits: about 1 in 1,024 slips through
    sample = next(iter(drawn))
    assert normalise_reference(sample.lower().replace("0", "o")) == sample


def test_the_verification_endpoint_does_what_the_document_says(
    store: CentralStore,
    kiosk: Kiosk,
    stop_asgi_portal: None,  # noqa: F811
) -> None:
    reference = new_reference()
    with TestClient(create_app(store)) as client:
        deliver(client, kiosk, record(reference))
    config = SchemathesisConfig()
    config.update(seed=20260512, max_failures=None)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(store), config=config)
    schema = schema.include(path_regex=r"^/v1/certificates/")
    schema.config.checks.update(included_check_names=["all"])
    schema.config.generation.update(max_examples=60, database="none")
    failures: list[str] = []
    statuses: set[int] = set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                failures += [f"{c.failure_info.failure.title}: {c.failure_info.code_sample}"
                             for c in checks if c.failure_info is not None]  # fmt: skip
            statuses |= {i.response.status_code for i in event.recorder.interactions.values()
                         if i.response is not None}  # fmt: skip
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(str(getattr(event, "value", None) or getattr(event, "exception", "")))
    assert not failures, "\n".join(failures)
    assert {404, 422} <= statuses, statuses
