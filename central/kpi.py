"""Service KPIs: what residents got done and how they judged it, by centre group, terminal,
service and day. Definitions (the README's "Service KPIs" repeats them for operators):

- visits: visit_metrics records (one per visit, when it ends);
- chose: visits that chose a service; completed: those that got it done in the visit;
- 一次办成率 (done_in_one_visit) = completed / chose;
- abandoned: visits that chose a service and did not complete it, by the step they ended in;
- median seconds per step and per visit, from histograms (BUCKETS: half a second wide at
  first, each about a fifth wider than the one before, capped at an hour): the median is the
  middle of the bucket that holds the middle value (the upper one of two);
- rated: 好差评 records (score 1..5); rating_coverage = rated / completed;
- 满意率 (satisfaction) = (非常满意 + 满意 + 基本满意) / rated, i.e. scores 5, 4, 3 over all;
- 差评 (bad_ratings) = 不满意 + 非常不满意, scores 2 and 1;
- completion_with_fault = completed / chose among visits that met a device fault,
  completion_without_fault the same among the others;
- elder_share, english_share = visits in elder mode, in English, over visits.

A ratio with nothing under it is None ("no data"), never 0. The day is the terminal's local date
as it wrote the record. Rating records are counted under the service they rate.

The figures come from rollups (central/kpi_tables.py), brought up to date by ``roll_up``: the
API server runs it every few seconds, ``kiosk-central kpi`` once before it reads.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import BigInteger, Connection, and_, func, select, text, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from central.cases import Rated, open_cases
from central.kpi_tables import (
    ABANDONED,
    COUNTS,
    KEYS,
    TIMES,
    VISITS,
    Rollup,
    kpi_progress,
    smallest,
)
from central.store import CentralStore
from central.tables import kiosks, transactions

log = logging.getLogger(__name__)

KPI_SERVICES = ("visit_metrics", "rating")  # the transactions the rollups read
CHUNK = 50000
# PostgreSQL: rows younger than this are left for the next round. An id is drawn when a row is
# inserted, not when it commits, so a slower transaction may yet show a lower id than one seen.
SETTLE_SECONDS = 5.0
PROGRESS = "kpi"
By = Literal["service", "kiosk", "day", "group"]


# -- time buckets ---------------------------------------------------------------------------------
# Bucket lower bounds in deciseconds, each about a fifth wider than the one before (half a second
# at first): a median to within some 10% whatever the time, in 40 buckets, so that a month of a
# fleet's step times stays a few hundred thousand rows.
BUCKETS = (
    0, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 100, 120, 140, 170, 200, 240, 290, 350, 420,
    500, 600, 720, 860, 1030, 1240, 1490, 1790, 2150, 2580, 3100, 3720, 4460, 5350, 6420, 9000,
    18000, 36000,
)  # fmt: skip


def bucket_of(seconds: float) -> int:
    """The lower bound, in deciseconds, of the histogram bucket that holds *seconds*."""
    tenths = max(0, int(seconds * 10))
    return BUCKETS[bisect_right(BUCKETS, tenths) - 1]


def bucket_middle(lower: int) -> float:
    """The middle of the bucket starting at *lower*, in seconds (the last: its lower bound)."""
    index = BUCKETS.index(lower)
    upper = BUCKETS[index + 1] if index + 1 < len(BUCKETS) else lower
    return (lower + upper) / 20


def median_of(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    if total == 0:
        return None
    half, seen = (total + 1) / 2, 0
    for lower in sorted(histogram):
        seen += histogram[lower]
        if seen >= half:
            return bucket_middle(lower)
    return None  # not reached


# -- rolling up -----------------------------------------------------------------------------------
@dataclass
class _Batch:
    visits: dict[tuple[str, ...], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    times: Counter[tuple[str | int, ...]] = field(default_factory=Counter)
    abandoned: Counter[tuple[str, ...]] = field(default_factory=Counter)
    bad: list[Rated] = field(default_factory=list)  # 差评: each opens a case
    skipped: int = 0

    def add(
        self, group: str, kiosk_id: str, uuid: str, created_at: str, payload: dict[str, Any]
    ) -> None:
        day = created_at[:10]
        record = payload.get("record")
        if record == "visit_metrics":
            self._visit(group, kiosk_id, day, payload)
        elif record == "rating":
            score = payload.get("score")
            if not isinstance(score, int) or not 1 <= score <= 5:
                self.skipped += 1
                return
            service = str(payload.get("service") or "")
            self.visits[(day, group, kiosk_id, service)][f"rated_{score}"] += 1
            if score <= 2:
                reasons = payload.get("reasons")
                visit_id = payload.get("visit_id")
                self.bad.append(Rated(
                    kiosk_id, uuid, group, service, score,
                    [str(r) for r in reasons] if isinstance(reasons, list) else [],
                    visit_id if isinstance(visit_id, str) else None, created_at,
                ))  # fmt: skip
        else:
            self.skipped += 1

    def _visit(self, group: str, kiosk_id: str, day: str, payload: dict[str, Any]) -> None:
        service = str(payload.get("service") or "")
        key = (day, group, kiosk_id, service)
        counts = self.visits[key]
        counts["visits"] += 1
        completed = payload.get("completed") is True
        if service:
            counts["chose"] += 1
            counts["completed"] += completed
            if payload.get("faults"):
                counts["faulted"] += 1
                counts["faulted_completed"] += completed
            if not completed:
                self.abandoned[(*key, str(payload.get("ended_at") or "unknown"))] += 1
        counts["elder"] += payload.get("elder") is True
        counts["english"] += payload.get("language") == "en"
        seconds = payload.get("seconds")
        if isinstance(seconds, int | float):
            self.times[(*key, "", bucket_of(seconds))] += 1
        for step in payload.get("steps") or []:
            if isinstance(step, dict) and isinstance(step.get("seconds"), int | float):
                self.times[(*key, str(step.get("step")), bucket_of(step["seconds"]))] += 1


def _insert(store: CentralStore, table: Any) -> Any:
    return pg_insert(table) if store.dialect == "postgresql" else sqlite_insert(table)


def _add_up(store: CentralStore, conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert *rows*, or add their counts to the rows already there."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    columns = [c.name for c in table.columns if c.name not in keys]
    full = [{**dict.fromkeys(columns, 0), **row} for row in rows]
    if store.dialect == "postgresql":
        # One statement for the lot, the rows as arrays: a chunk of records touches tens of
        # thousands of keys, and one round trip (or one compiled statement) each is the cost.
        names = [c.name for c in table.columns]
        kinds = ["bigint" if isinstance(c.type, BigInteger) else "text" for c in table.columns]
        arrays = ", ".join(f"CAST(:{n} AS {k}[])" for n, k in zip(names, kinds, strict=True))
        updates = ", ".join(f"{n} = {table.name}.{n} + EXCLUDED.{n}" for n in columns)
        statement = text(
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        )
        conn.execute(statement, {n: [row[n] for row in full] for n in names})
        return
    statement = _insert(store, table)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: table.c[name] + statement.excluded[name] for name in columns},
    )
    conn.execute(statement, full)  # SQLite: in process, a statement per row costs little


def _project(rollup: Rollup, rows: dict[Any, Any]) -> dict[tuple[Any, ...], Any]:
    """*rows* keyed (day, grp, kiosk_id, service, ...) added up at *rollup*'s grain."""
    keep = [KEYS.index(k) for k in rollup.keys]
    out: dict[tuple[Any, ...], Any] = {}
    for key, value in rows.items():
        if rollup.whole_visit_only and key[4] != "":
            continue
        coarse = (*(key[i] for i in keep), *key[len(KEYS) :])
        if isinstance(value, Counter):
            out.setdefault(coarse, Counter()).update(value)
        else:
            out[coarse] = out.get(coarse, 0) + value
    return out


def _write_batch(store: CentralStore, conn: Connection, batch: _Batch) -> None:
    """Add the batch's counts to every rollup, each at its own grain."""
    for rollups, rows, extra in (
        (VISITS, batch.visits, ()),
        (TIMES, batch.times, ("step", "bucket")),
        (ABANDONED, batch.abandoned, ("step",)),
    ):
        for rollup in rollups:
            names = (*rollup.keys, *extra)
            _add_up(store, conn, rollup.table, [
                {**dict(zip(names, key, strict=True)),
                 **(value if isinstance(value, Counter) else {"n": value})}
                for key, value in _project(rollup, rows).items()
            ])  # fmt: skip


def roll_up(
    store: CentralStore, *, now: datetime | None = None, chunk: int = CHUNK, wait: bool = True
) -> int:
    """Count the next *chunk* of settled transactions into the rollups; how many were read.

    One write transaction: the counts and the new position commit together, so a crash, or a
    second worker (the progress row is locked), never counts a record twice. With *wait*
    false (a console page catching up before it reads) a round already running elsewhere is
    left to finish rather than waited for (PostgreSQL): the page does not hold a connection
    and a thread the terminals' requests need."""
    moment = now or datetime.now(UTC)
    # SQLite has one writer at a time: its ids come in commit order, nothing needs to settle.
    lag = SETTLE_SECONDS if store.dialect == "postgresql" else 0.0
    settled = (moment - timedelta(seconds=lag)).isoformat(timespec="microseconds")
    with store._write() as conn:
        # The row first (two first runs at once: one inserts, the other finds it), then locked.
        conn.execute(
            _insert(store, kpi_progress)
            .values(name=PROGRESS, last_id=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        progress = select(kpi_progress.c.last_id).where(kpi_progress.c.name == PROGRESS)
        if store.dialect == "postgresql":
            progress = progress.with_for_update(skip_locked=not wait)
        found = conn.execute(progress).scalar()
        if found is None:
            return 0  # another round holds it: it counts what this one would have
        last = int(found)
        rows = conn.execute(
            select(
                transactions.c.id, transactions.c.kiosk_id, transactions.c.uuid,
                transactions.c.service,
                transactions.c.payload, transactions.c.created_at, transactions.c.received_at,
            )
            .where(transactions.c.id > last)
            .order_by(transactions.c.id)
            .limit(chunk)
        ).all()  # fmt: skip
        batch = _Batch()
        groups = dict(conn.execute(select(kiosks.c.id, kiosks.c.grp)).all())
        read = 0
        for row in rows:
            if row.received_at > settled:
                break  # this one and the rest wait for the next round
            read += 1
            last = row.id
            if row.service not in KPI_SERVICES:
                continue
            try:
                payload = json.loads(row.payload)
            except ValueError:
                batch.skipped += 1
                continue
            group = groups.get(row.kiosk_id) or ""
            batch.add(group, row.kiosk_id, row.uuid, row.created_at, payload)
        if batch.skipped:
            log.warning("kpi: %d records not understood, left out", batch.skipped)
        _write_batch(store, conn, batch)
        open_cases(store, conn, batch.bad)
        if read:
            conn.execute(
                kpi_progress.update().where(kpi_progress.c.name == PROGRESS).values(last_id=last)
            )
        return read


def catch_up(store: CentralStore, *, now: datetime | None = None) -> int:
    """Roll up everything settled; how many transactions were read."""
    total = 0
    while True:
        read = roll_up(store, now=now)
        total += read
        if read < CHUNK:
            return total


# -- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    group: str | None = None
    kiosk: str | None = None
    service: str | None = None
    since: date | None = None  # inclusive
    until: date | None = None  # inclusive

    def where(self, table: Any) -> Any:
        conditions = []
        if self.group is not None:
            conditions.append(table.c.grp == self.group)
        if self.kiosk is not None:
            conditions.append(table.c.kiosk_id == self.kiosk)
        if self.service is not None:
            conditions.append(table.c.service == self.service)
        if self.since is not None:
            conditions.append(table.c.day >= self.since.isoformat())
        if self.until is not None:
            conditions.append(table.c.day <= self.until.isoformat())
        return and_(true(), *conditions)


DIMENSION = {"service": "service", "kiosk": "kiosk_id", "day": "day", "group": "grp"}


def _filtered(where: Filter) -> set[str]:
    """The rollup keys *where* filters on (the day is every rollup's)."""
    named = {"grp": where.group, "kiosk_id": where.kiosk, "service": where.service}
    return {"day"} | {key for key, value in named.items() if value is not None}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(counts: dict[str, int], times: dict[str, dict[int, int]]) -> dict[str, Any]:
    """The KPIs of one row of added-up counters and time histograms (step '' = whole visit)."""
    rated = sum(counts.get(f"rated_{s}", 0) for s in range(1, 6))
    chose, completed = counts.get("chose", 0), counts.get("completed", 0)
    faulted, faulted_done = counts.get("faulted", 0), counts.get("faulted_completed", 0)
    visits = counts.get("visits", 0)
    return {
        "visits": visits,
        "chose": chose,
        "completed": completed,
        "done_in_one_visit": _ratio(completed, chose),
        "median_visit_seconds": median_of(times.get("", {})),
        "median_step_seconds": {
            step: median_of(hist) for step, hist in sorted(times.items()) if step
        },
        "rated": rated,
        "ratings": {str(s): counts.get(f"rated_{s}", 0) for s in range(5, 0, -1)},
        "rating_coverage": _ratio(rated, completed),
        "satisfaction": _ratio(sum(counts.get(f"rated_{s}", 0) for s in (3, 4, 5)), rated),
        "bad_ratings": counts.get("rated_1", 0) + counts.get("rated_2", 0),
        "completion_with_fault": _ratio(faulted_done, faulted),
        "completion_without_fault": _ratio(completed - faulted_done, chose - faulted),
        "elder_share": _ratio(counts.get("elder", 0), visits),
        "english_share": _ratio(counts.get("english", 0), visits),
    }


def report(store: CentralStore, where: Filter, by: By | None = None) -> dict[str, Any]:
    """The KPIs over *where*: the total, one row per *by* value, and the abandonment funnel,
    each read from the smallest rollup that keeps what is asked."""
    needed = _filtered(where)
    visits_t = smallest(VISITS, needed | ({DIMENSION[by]} if by else set())).table
    # Times per terminal only for a named terminal: one row per terminal over a whole fleet
    # gets no medians (the total has them).
    times_by = by if by and (by != "kiosk" or where.kiosk is not None) else None
    times_t = smallest(TIMES, needed | ({DIMENSION[times_by]} if times_by else set())).table
    abandoned_t = smallest(ABANDONED, needed | {"service"}).table
    dims = [visits_t.c[DIMENSION[by]]] if by else []
    with store.engine.connect() as conn:
        sums = conn.execute(
            select(*dims, *[func.sum(visits_t.c[name]).label(name) for name in COUNTS])
            .where(where.where(visits_t))
            .group_by(*dims)
        ).all()
        tdims = [times_t.c[DIMENSION[times_by]]] if times_by else []
        hist = conn.execute(
            select(*tdims, times_t.c.step, times_t.c.bucket, func.sum(times_t.c.n))
            .where(where.where(times_t))
            .group_by(*tdims, times_t.c.step, times_t.c.bucket)
        ).all()
        funnel = conn.execute(
            select(abandoned_t.c.service, abandoned_t.c.step, func.sum(abandoned_t.c.n))
            .where(where.where(abandoned_t))
            .group_by(abandoned_t.c.service, abandoned_t.c.step)
        ).all()
    # A row per terminal over a fleet is thousands: plain tuples, summed column by column.
    # (SUM over no row is NULL: the total of nothing.)
    width = len(COUNTS)
    values = [(row[0] if by else "", [int(v or 0) for v in row[-width:]]) for row in sums]
    rows = {str(key): dict(zip(COUNTS, counts, strict=True)) for key, counts in values}
    total = dict.fromkeys(COUNTS, 0)
    if values:
        columns = zip(*(counts for _, counts in values), strict=True)
        total = dict(zip(COUNTS, map(sum, columns), strict=True))
    times: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    all_times: dict[str, Counter[int]] = defaultdict(Counter)
    for row in hist:
        key = str(row[0]) if times_by else ""
        step, bucket, n = row[-3], int(row[-2]), int(row[-1])
        times[key][step][bucket] = times[key][step].get(bucket, 0) + n
        all_times[step][bucket] += n
    out_rows = [
        {"key": key, **figures(counts, times.get(key, {}))}
        for key, counts in sorted(rows.items())
    ] if by else []  # fmt: skip
    return {
        "filter": {
            "group": where.group,
            "kiosk": where.kiosk,
            "service": where.service,
            "since": where.since.isoformat() if where.since else None,
            "until": where.until.isoformat() if where.until else None,
        },
        "by": by,
        "total": figures(total, {k: dict(v) for k, v in all_times.items()}),
        "rows": out_rows,
        "abandoned": sorted(
            ({"service": s, "step": step, "visits": int(n)} for s, step, n in funnel),
            key=lambda r: (-r["visits"], r["service"], r["step"]),
        ),
    }


def trend(store: CentralStore, where: Filter) -> list[dict[str, Any]]:
    """Day by day over *where*: visits, 一次办成率 and 满意率 (the console's trend chart). Only
    the visit counters are read, from the per-group rollup unless a terminal is named."""
    table = smallest(VISITS, _filtered(where) | {"day"}).table
    names = ("visits", "chose", "completed", "rated_1", "rated_2", "rated_3", "rated_4", "rated_5")
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.day, *[func.sum(table.c[name]).label(name) for name in names])
            .where(where.where(table))
            .group_by(table.c.day)
            .order_by(table.c.day)
        ).all()
    out = []
    for row in rows:
        counts = {name: int(getattr(row, name) or 0) for name in names}
        rated = sum(counts[f"rated_{s}"] for s in range(1, 6))
        out.append({
            "day": str(row.day),
            "visits": counts["visits"],
            "done_in_one_visit": _ratio(counts["completed"], counts["chose"]),
            "satisfaction": _ratio(sum(counts[f"rated_{s}"] for s in (3, 4, 5)), rated),
        })  # fmt: skip
    if where.since is None or where.until is None or where.since > where.until:
        return out
    # Every day of the period, those without a visit too: a gap is a fact, and the chart's
    # days stay evenly spaced.
    held = {entry["day"]: entry for entry in out}
    days = (where.since + timedelta(days=n) for n in range((where.until - where.since).days + 1))
    return [
        held.get(day.isoformat())
        or {"day": day.isoformat(), "visits": 0, "done_in_one_visit": None, "satisfaction": None}
        for day in days
    ]


TABLE_COLUMNS: Sequence[tuple[str, str]] = (
    ("visits", "visits"),
    ("done_in_one_visit", "一次办成率"),
    ("median_visit_seconds", "median s"),
    ("rated", "rated"),
    ("satisfaction", "满意率"),
    ("bad_ratings", "差评"),
    ("rating_coverage", "coverage"),
)


def as_lines(result: dict[str, Any]) -> Iterable[str]:
    """A plain table for a terminal: one line per row and the total."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float) and value <= 1 and not isinstance(value, bool):
            return f"{value:.1%}"
        return str(value)

    key_title = result["by"] or ""
    header = [key_title.ljust(24)] + [title.rjust(10) for _, title in TABLE_COLUMNS]
    yield " ".join(header)
    for row in [*result["rows"], {"key": "total", **result["total"]}]:
        cells = [str(row["key"]).ljust(24)]
        for name, _ in TABLE_COLUMNS:
            value = row[name]
            text = f"{value:.1f}" if name == "median_visit_seconds" and value else cell(value)
            cells.append(text.rjust(10))
        yield " ".join(cells)
