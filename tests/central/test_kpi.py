"""Service KPIs (central/kpi.py) against figures worked out by hand from a handful of visits, on
both backends: the definitions in the module's docstring and the README, rolled up once and
only once, whatever the chunking, a second worker or a record that arrives later."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from central.kpi import (
    BUCKETS,
    Filter,
    bucket_middle,
    bucket_of,
    catch_up,
    median_of,
    report,
    roll_up,
    trend,
)
from central.store import CentralStore
from contracts.wire import BatchItem
from tests.central.helpers import run_together


def later() -> datetime:
    """A moment by which every record received so far has settled."""
    return datetime.now(UTC) + timedelta(minutes=1)


DAY1, DAY2 = "2026-11-02T10:00:00+08:00", "2026-11-03T09:00:00+08:00"


def metrics(service: str | None, seconds: float, *, completed: bool, ended_at: str = "goodbye",
            faults: tuple[str, ...] = (), elder: bool = False, language: str = "zh_CN",
            steps: tuple[tuple[str, float], ...] = ()) -> dict[str, Any]:  # fmt: skip
    payload: dict[str, Any] = {
        "record": "visit_metrics", "visit_id": "0" * 32, "seconds": seconds,
        "completed": completed, "ended": "finished" if completed else "cancelled",
        "ended_at": ended_at, "faults": list(faults), "elder": elder, "language": language,
        "steps": [{"step": s, "seconds": t} for s, t in steps],
    }  # fmt: skip
    if service:
        payload["service"] = service
    return payload


def rating(service: str, score: int) -> dict[str, Any]:
    return {"record": "rating", "visit_id": "0" * 32, "score": score, "service": service}


class Sender:
    def __init__(self, store: CentralStore) -> None:
        self.store, self.n = store, 0

    def __call__(self, kiosk_id: str, payload: dict[str, Any], created_at: str = DAY1) -> None:
        self.n += 1
        service = str(payload["record"])
        item = BatchItem.model_validate({
            "uuid": f"0190a000-0000-7000-8000-{self.n:012d}", "seq": self.n,
            "service": service, "payload": payload, "created_at": created_at,
        })  # fmt: skip
        self.store.ingest(kiosk_id, [item])


@pytest.fixture
def seeded(store: CentralStore) -> CentralStore:
    store.add_kiosk("kiosk-a", "east")
    store.add_kiosk("kiosk-b", "west")
    send = Sender(store)
    steps = (("identify", 3.2), ("catalogue", 4.0), ("result", 4.8))
    send("kiosk-a", metrics("social_security", 12.0, completed=True, steps=steps))
    send("kiosk-a", rating("social_security", 5))
    send("kiosk-a", metrics("social_security", 30.0, completed=False, ended_at="identify",
                            faults=("id_card_reader/read_failed",), elder=True))  # fmt: skip
    send("kiosk-a", rating("social_security", 2))
    send("kiosk-a", metrics("certificate", 20.0, completed=True,
                            faults=("receipt_printer/paper_out",), language="en"))  # fmt: skip
    send("kiosk-a", rating("certificate", 3))
    send("kiosk-a", metrics(None, 5.0, completed=False, ended_at="catalogue"))
    send("kiosk-b", metrics("social_security", 8.0, completed=True))
    send("kiosk-b", rating("social_security", 4))
    send("kiosk-a", metrics("social_security", 14.0, completed=True), DAY2)
    send("kiosk-a", rating("social_security", 1), DAY2)
    send("kiosk-a", {"record": "ticket", "visit_id": "0" * 32, "option": "a", "language": "zh_CN"})
    return store


def test_the_fleet_over_everything(seeded: CentralStore) -> None:
    assert catch_up(seeded, now=later()) == 12
    total = report(seeded, Filter())["total"]
    assert total["visits"] == 6 and total["chose"] == 5 and total["completed"] == 4
    assert total["done_in_one_visit"] == 0.8  # 4 of the 5 that chose a service
    assert total["rated"] == 5 and total["ratings"] == {"5": 1, "4": 1, "3": 1, "2": 1, "1": 1}
    assert total["satisfaction"] == 0.6  # 非常满意 + 满意 + 基本满意 = 3 of 5
    assert total["bad_ratings"] == 2
    assert total["rating_coverage"] == 1.25  # 5 ratings over 4 completed visits
    assert total["completion_with_fault"] == 0.5  # v2 failed, v3 done, both met a fault
    assert total["completion_without_fault"] == 1.0  # v1, v5, v6
    assert total["elder_share"] == round(1 / 6, 4) and total["english_share"] == round(1 / 6, 4)
    # 5, 8, 12, 14, 20, 30 s: the middle value (the upper of two) is 14, in [14, 17)
    assert total["median_visit_seconds"] == 15.5
    assert total["median_step_seconds"]["identify"] == 3.25  # 3.2 s, in [3.0, 3.5)


def test_by_service_with_the_funnel(seeded: CentralStore) -> None:
    catch_up(seeded, now=later())
    result = report(seeded, Filter(), by="service")
    rows = {row["key"]: row for row in result["rows"]}
    assert set(rows) == {"", "certificate", "social_security"}
    social = rows["social_security"]
    assert (social["visits"], social["chose"], social["completed"]) == (4, 4, 3)
    assert social["done_in_one_visit"] == 0.75
    assert social["rated"] == 4 and social["satisfaction"] == 0.5 and social["bad_ratings"] == 2
    assert rows["certificate"]["satisfaction"] == 1.0
    assert rows[""]["visits"] == 1 and rows[""]["done_in_one_visit"] is None  # no data, not 0
    assert result["abandoned"] == [{"service": "social_security", "step": "identify", "visits": 1}]


def test_filters_by_group_kiosk_service_and_period(seeded: CentralStore) -> None:
    catch_up(seeded, now=later())
    assert report(seeded, Filter(group="west"))["total"]["visits"] == 1
    assert report(seeded, Filter(kiosk="kiosk-a"))["total"]["visits"] == 5
    since = report(seeded, Filter(since=date(2026, 11, 3)))["total"]
    assert (since["visits"], since["bad_ratings"]) == (1, 1)
    until = report(seeded, Filter(until=date(2026, 11, 2), service="certificate"))["total"]
    assert (until["visits"], until["completion_with_fault"]) == (1, 1.0)
    by_day = report(seeded, Filter(service="social_security"), by="day")["rows"]
    assert [(r["key"], r["visits"]) for r in by_day] == [("2026-11-02", 3), ("2026-11-03", 1)]


def test_the_smallest_rollup_answers_as_the_finest_would(
    seeded: CentralStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each query reads the smallest rollup that keeps what it asks; every filter and grouping
    gives the figures the finest rollups give."""
    import central.kpi

    catch_up(seeded, now=later())
    filters = [
        Filter(), Filter(group="east"), Filter(kiosk="kiosk-a"), Filter(service="social_security"),
        Filter(group="east", service="certificate"), Filter(since=date(2026, 11, 3)),
        Filter(kiosk="kiosk-a", service="social_security", until=date(2026, 11, 2)),
    ]  # fmt: skip
    asked = [(f, by) for f in filters for by in (None, "service", "group", "day", "kiosk")]
    smallest = [report(seeded, f, by) for f, by in asked]  # type: ignore[arg-type]

    def finest(rollups: Any, needed: set[str]) -> Any:
        whole = "kiosk_id" in needed  # the per-terminal times keep whole visits only
        fits = [r for r in rollups if needed <= set(r.keys) and (whole or not r.whole_visit_only)]
        return fits[-1]

    monkeypatch.setattr(central.kpi, "smallest", finest)
    for (f, by), got in zip(asked, smallest, strict=True):
        assert got == report(seeded, f, by), (f, by)  # type: ignore[arg-type]
    assert trend(seeded, Filter()) == [
        {"day": "2026-11-02", "visits": 5, "done_in_one_visit": 0.75, "satisfaction": 0.75},
        {"day": "2026-11-03", "visits": 1, "done_in_one_visit": 1.0, "satisfaction": 0.0},
    ]


def test_the_trend_day_by_day(seeded: CentralStore) -> None:
    catch_up(seeded, now=later())
    # 2 Nov: five visits, four chose a service, three done; rated 5, 2, 3, 4 (three satisfied)
    # 3 Nov: one visit, done; rated 1
    assert trend(seeded, Filter()) == [
        {"day": "2026-11-02", "visits": 5, "done_in_one_visit": 0.75, "satisfaction": 0.75},
        {"day": "2026-11-03", "visits": 1, "done_in_one_visit": 1.0, "satisfaction": 0.0},
    ]
    assert trend(seeded, Filter(kiosk="kiosk-b")) == [
        {"day": "2026-11-02", "visits": 1, "done_in_one_visit": 1.0, "satisfaction": 1.0},
    ]
    assert trend(seeded, Filter(group="east", since=date(2026, 11, 3))) == [
        {"day": "2026-11-03", "visits": 1, "done_in_one_visit": 1.0, "satisfaction": 0.0},
    ]
    # A whole period: the days without a visit are there, empty.
    days = trend(seeded, Filter(kiosk="kiosk-b", since=date(2026, 11, 1), until=date(2026, 11, 3)))
    assert days == [
        {"day": "2026-11-01", "visits": 0, "done_in_one_visit": None, "satisfaction": None},
        {"day": "2026-11-02", "visits": 1, "done_in_one_visit": 1.0, "satisfaction": 1.0},
        {"day": "2026-11-03", "visits": 0, "done_in_one_visit": None, "satisfaction": None},
    ]


def test_counted_once_in_any_chunking_and_by_two_workers_at_once(seeded: CentralStore) -> None:
    assert roll_up(seeded, now=datetime(2020, 1, 1, tzinfo=UTC)) == 0  # nothing settled yet
    assert run_together(*[lambda: roll_up(seeded, now=later(), chunk=5)] * 2) == [5, 5]
    while roll_up(seeded, now=later(), chunk=5):
        pass
    assert roll_up(seeded, now=later()) == 0  # nothing left, nothing counted again
    assert report(seeded, Filter())["total"]["visits"] == 6
    late = Sender(seeded)
    late.n = 100
    late("kiosk-b", metrics("social_security", 9.0, completed=False, ended_at="confirm"))
    if seeded.dialect == "postgresql":  # ids drawn at insert, not commit: a moment to settle
        assert roll_up(seeded) == 0
    assert roll_up(seeded, now=later() + timedelta(minutes=1)) == 1
    total = report(seeded, Filter())["total"]
    assert (total["visits"], total["chose"], total["completed"]) == (7, 6, 4)


def test_buckets_and_medians() -> None:
    assert [bucket_of(s) for s in (0, 0.49, 0.5, 3.2, 14.0, 59.9, 60, 5000)] == [
        0, 0, 5, 30, 140, 500, 600, 36000,
    ]  # fmt: skip
    assert bucket_middle(30) == 3.25 and bucket_middle(140) == 15.5 and bucket_middle(36000) == 3600
    assert median_of({}) is None
    assert median_of({10: 1, 20: 1, 30: 1}) == 2.25
    # every bucket is at most about a fifth wider than its lower bound, past the first seconds
    assert all((b - a) / a <= 0.45 for a, b in itertools.pairwise(BUCKETS[8:-3]))


def test_the_command_prints_json_csv_and_a_table(db_url: str, seeded: CentralStore) -> None:
    import csv
    import io
    import json

    from tests.central.test_central_cli import run_cli

    done = run_cli("kpi", "--db", db_url, "--by", "service", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["key"]: row for row in json.loads(done.stdout)["rows"]}
    if seeded.dialect == "sqlite":  # PostgreSQL's newest rows wait SETTLE_SECONDS
        assert rows["social_security"]["done_in_one_visit"] == 0.75
    table = run_cli("kpi", "--db", db_url, "--group", "east", "--since", "2026-11-01")
    assert table.returncode == 0 and "一次办成率" in table.stdout and "total" in table.stdout
    as_csv = run_cli("kpi", "--db", db_url, "--by", "day", "--csv")
    lines = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert lines[0][:3] == ["day", "visits", "chose"] and lines[-1][0] == "total"
    bad = run_cli("kpi", "--db", db_url, "--since", "2026-12-01", "--until", "2026-11-01")
    assert bad.returncode == 2 and "--since is after --until" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_platform_from_before_the_coarser_rollups_fills_them_on_upgrade(
    db_url: str, seeded: CentralStore
) -> None:
    """Schema 9 brought kpi_visits_terminal, kpi_times_group_all and kpi_times_fleet: a
    platform at schema 8 has its history added up into them when it opens, so its KPIs read
    the same straight away."""
    from sqlalchemy import delete, update

    from central.kpi_tables import TIMES, VISITS
    from central.tables import schema_version

    catch_up(seeded, now=later())
    asked = [(Filter(), None), (Filter(), "kiosk"), (Filter(), "group"), (Filter(), "service")]
    before = [report(seeded, f, by) for f, by in asked]  # type: ignore[arg-type]
    with seeded.engine.begin() as conn:  # as a schema 8 platform had them: absent, so empty
        for table in (VISITS[1].table, TIMES[1].table, TIMES[0].table):
            conn.execute(delete(table))
        conn.execute(update(schema_version).values(version=8))
    assert report(seeded, Filter(), "kiosk")["total"]["visits"] == 0  # the guard means something
    seeded.close()
    upgraded = CentralStore.open(db_url)
    try:
        assert [report(upgraded, f, by) for f, by in asked] == before  # type: ignore[arg-type]
    finally:
        upgraded.close()


def test_a_page_does_not_wait_for_a_round_running_elsewhere(seeded: CentralStore) -> None:
    """A console page catches up before it reads, but a round another worker is running is
    left to finish (PostgreSQL): the page neither waits nor counts anything twice."""
    import time

    from sqlalchemy import select

    from central.kpi_tables import kpi_progress

    if seeded.dialect != "postgresql":
        pytest.skip("SQLite's one writer at a time makes every round wait its turn")
    assert roll_up(seeded, now=datetime(2020, 1, 1, tzinfo=UTC)) == 0  # the progress row made
    with seeded.engine.begin() as conn:  # another worker's round, holding the progress row
        conn.execute(select(kpi_progress).with_for_update()).all()
        began = time.monotonic()
        assert roll_up(seeded, now=later(), wait=False) == 0
        assert time.monotonic() - began < 2
    assert catch_up(seeded, now=later()) == 12  # every record, once, when the row is free
