"""The visit records' contract: the published JSON Schema matches the models, records refuse what
the contract forbids, and readers tolerate what a newer terminal may add."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.records import RatingRecord, json_schemas, parse_record

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "visit-records.schema.json"
VISIT = "0123456789abcdef0123456789abcdef"


def test_the_published_schema_is_the_models_schema() -> None:
    published = json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert published == json.loads(json.dumps(json_schemas())), (
        "docs/visit-records.schema.json is stale: "
        "python -m contracts.records > docs/visit-records.schema.json"
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"record": "rating", "visit_id": VISIT, "score": 6},
        {"record": "rating", "visit_id": VISIT, "score": 0},
        {"record": "rating", "visit_id": "not-hex", "score": 3},
        {"record": "visit_metrics", "visit_id": VISIT, "steps": [], "seconds": -1,
         "completed": True, "ended": "finished", "ended_at": "goodbye", "faults": [],
         "elder": False, "language": "zh_CN"},
        {"record": "visit_metrics", "visit_id": VISIT, "steps": [], "seconds": 3,
         "completed": True, "ended": "exploded", "ended_at": "goodbye", "faults": [],
         "elder": False, "language": "zh_CN"},
        {"record": "ticket", "visit_id": VISIT, "option": "general", "language": "fr"},
    ],
)  # fmt: skip
def test_a_record_outside_the_contract_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_record(payload)


def test_an_unknown_kind_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="record='lottery'"):
        parse_record({"record": "lottery", "visit_id": VISIT})


def test_a_newer_terminals_extra_field_is_ignored_and_absent_fields_are_left_out() -> None:
    rating = parse_record({"record": "rating", "visit_id": VISIT, "score": 5, "mood": "sunny"})
    assert isinstance(rating, RatingRecord) and rating.score == 5
    assert rating.payload() == {"record": "rating", "visit_id": VISIT, "score": 5}
