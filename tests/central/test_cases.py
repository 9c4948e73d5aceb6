"""差评 cases (central/cases.py): one per bad rating, opened by the KPI roll-up exactly once, due a
number of working days after the rating, moved only forward with a note, and 整改率 / 回访率."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from central import cases, kpi
from central.store import CentralStore
from contracts.wire import BatchItem


def later() -> datetime:
    """A moment by which every record received so far has settled."""
    return datetime.now(UTC) + timedelta(minutes=1)


def rate(store: CentralStore, n: int, score: int, day: str = "2026-11-06") -> None:  # a Friday
    payload = {"record": "rating", "visit_id": f"{n:032x}", "service": "social_security",
               "score": score, "reasons": ["wait"]}  # fmt: skip
    store.ingest("kiosk-a", [BatchItem.model_validate({
        "uuid": f"0190a000-0000-7000-8000-{n:012d}", "seq": n, "service": "rating",
        "payload": payload, "created_at": f"{day}T15:00:00+08:00"})])  # fmt: skip


def test_due_counts_working_days_only() -> None:
    friday = date(2026, 11, 6)
    assert cases.due_after(friday, 5) == date(2026, 11, 13)  # the next Friday
    assert cases.due_after(friday, 1) == date(2026, 11, 9)  # Monday, not Saturday


def test_each_bad_rating_opens_one_case(store: CentralStore) -> None:
    store.add_kiosk("kiosk-a", "east")
    for n, score in enumerate((1, 2, 3, 5), start=1):
        rate(store, n, score)
    kpi.catch_up(store, now=later())
    kpi.catch_up(store, now=later())  # again: nothing new
    found = cases.list_cases(store, today=date(2026, 11, 10))
    assert [(c["score"], c["state"], c["due"], c["reasons"]) for c in found] == [
        (1, "open", "2026-11-13", ["wait"]), (2, "open", "2026-11-13", ["wait"]),
    ]  # fmt: skip
    assert not any(c["overdue"] for c in found)
    late = cases.list_cases(store, today=date(2026, 11, 16), state="overdue")
    assert len(late) == 2


def test_a_case_moves_forward_only_with_a_note(store: CentralStore) -> None:
    store.add_kiosk("kiosk-a", "east")
    rate(store, 1, 1)
    kpi.catch_up(store, now=later())
    (case,) = cases.list_cases(store)
    with pytest.raises(cases.CaseError, match="note"):
        cases.advance(store, case["id"], "in_progress", "op", "  ")
    with pytest.raises(cases.CaseError, match="cannot go to resolved"):
        cases.advance(store, case["id"], "resolved", "op", "skipping ahead")
    for to in ("in_progress", "resolved", "followed_up"):
        cases.advance(store, case["id"], to, "op", f"did {to}")
    with pytest.raises(cases.CaseError, match="cannot go to"):
        cases.advance(store, case["id"], "in_progress", "op", "again")
    got = cases.case(store, case["id"])
    assert got is not None and [n["state"] for n in got["notes"]] == [
        "in_progress", "resolved", "followed_up"]  # fmt: skip
    figures = cases.case_figures(store, today=date(2026, 11, 10))
    # Resolved today, after its day (2026-11-13): not in time; followed up: 回访率 100%.
    assert (figures["rectification_rate"], figures["follow_up_rate"]) == (0.0, 1.0)


def test_rates_count_the_deadline(store: CentralStore) -> None:
    store.add_kiosk("kiosk-a", "east")
    today = datetime.now(UTC).date()
    rate(store, 1, 1, today.isoformat())  # resolved now: within its deadline
    rate(store, 2, 2, (today - timedelta(days=30)).isoformat())  # unresolved, long overdue
    kpi.catch_up(store, now=later())
    first = next(c for c in cases.list_cases(store) if c["score"] == 1)
    cases.advance(store, first["id"], "in_progress", "op", "looked")
    cases.advance(store, first["id"], "resolved", "op", "fixed")
    figures = cases.case_figures(store)
    assert figures["cases"] == 2 and figures["overdue"] == 1
    assert figures["rectification_rate"] == 0.5  # 1 in time of 2 judged
    assert figures["follow_up_rate"] == 0.0  # resolved, not yet called back


def test_a_case_names_the_sealed_call_back_phone_of_its_visit(store: CentralStore) -> None:
    """The feedback of the rated visit left a phone: the case names that record for the back
    office to open with the key; the phone itself is nowhere in the case."""
    store.add_kiosk("kiosk-a", "east")
    store.add_kiosk("kiosk-b", "east")

    def feedback(kiosk: str, n: int, visit: int, phone: bool) -> None:
        payload = {"record": "feedback", "visit_id": f"{visit:032x}", "language": "zh_CN",
                   "has_text": True, "has_phone": phone}  # fmt: skip
        store.ingest(kiosk, [BatchItem.model_validate({
            "uuid": f"0190a000-0000-7000-9000-{n:012d}", "seq": 100 + n, "service": "feedback",
            "payload": payload, "created_at": "2026-11-06T14:58:00+08:00"})])  # fmt: skip

    feedback("kiosk-b", 1, 1, True)  # another terminal's visit that happens to share the id
    feedback("kiosk-a", 2, 2, False)  # visit 2 left a text, no phone
    feedback("kiosk-a", 3, 1, True)  # visit 1 left a phone
    rate(store, 1, 1)
    rate(store, 2, 2)
    kpi.catch_up(store, now=later())
    first, second = (cases.case(store, c["id"]) for c in cases.list_cases(store))
    assert first is not None and second is not None
    assert cases.call_back(store, first) == "0190a000-0000-7000-9000-000000000003"
    assert cases.call_back(store, second) is None
