"""差评 cases: every 不满意 (2) or 非常不满意 (1) rating opens a case, due within a number of
working days (Monday to Friday; KIOSK_CENTRAL_CASE_DAYS, 5 by default), linked to the service
and terminal rated. A case moves open -> in_progress -> resolved -> followed_up (回访 done), each
move with a note, and is overdue while unresolved past its day. No personal data: a resident
who left a phone for a call back left it sealed with their feedback, opened by the back office.

Cases are opened by the KPI roll-up (central/kpi.py) in the same transaction that counts the
rating: once per rating, whatever the workers. 整改率 = resolved within the deadline over the cases
judged (resolved, or unresolved past their day); 回访率 = followed up over resolved.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy import case as sql_case

from central.console.console_tables import bad_cases, case_notes
from central.database import StoreError
from central.store import CentralStore
from central.tables import transactions, utc_now

STATES = ("open", "in_progress", "resolved", "followed_up")
NEXT = {"open": "in_progress", "in_progress": "resolved", "resolved": "followed_up"}
DEFAULT_DAYS = 5
MAX_NOTE = 1000


class CaseError(StoreError):
    """A case cannot move as asked; the message says why."""


def working_days() -> int:
    raw = os.environ.get("KIOSK_CENTRAL_CASE_DAYS", "")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 60 else DEFAULT_DAYS


def due_after(day: date, days: int) -> date:
    """The *days*-th working day (Monday to Friday) after *day*."""
    current, left = day, days
    while left:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


@dataclass(frozen=True)
class Rated:
    """A bad rating, as the roll-up met it."""

    kiosk_id: str
    uuid: str
    group: str
    service: str
    score: int
    reasons: list[str]
    visit_id: str | None
    rated_at: str


def open_cases(store: CentralStore, conn: Connection, ratings: list[Rated]) -> None:
    """Open one case per rating (none twice: the rating's kiosk and uuid are unique)."""
    if not ratings:
        return
    days, now = working_days(), utc_now()
    rows = []
    for r in ratings:
        try:
            rated_day = date.fromisoformat(r.rated_at[:10])
        except ValueError:
            rated_day = datetime.fromisoformat(now).date()
        rows.append({
            "kiosk_id": r.kiosk_id, "uuid": r.uuid, "grp": r.group, "service": r.service,
            "score": r.score, "reasons": json.dumps(r.reasons), "visit_id": r.visit_id,
            "rated_at": r.rated_at, "opened_at": now,
            "due": due_after(rated_day, days).isoformat(), "state": "open", "updated_at": now,
        })  # fmt: skip
    statement = store._insert(bad_cases).on_conflict_do_nothing(index_elements=["kiosk_id", "uuid"])
    conn.execute(statement, rows)


def _overdue(row: Any, today: date) -> bool:
    return row.state in ("open", "in_progress") and row.due < today.isoformat()


def list_cases(
    store: CentralStore, *, state: str | None = None, today: date | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Cases, overdue first, then open before worked, then oldest first."""
    moment = today or date.today()
    query = select(bad_cases)
    if state == "overdue":
        query = query.where(
            bad_cases.c.state.in_(("open", "in_progress")), bad_cases.c.due < moment.isoformat()
        )
    elif state is not None:
        query = query.where(bad_cases.c.state == state)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(bad_cases.c.id).limit(limit)).all()
    out = [{**dict(r._mapping), "reasons": json.loads(r.reasons),
            "overdue": _overdue(r, moment)} for r in rows]  # fmt: skip
    order = {s: n for n, s in enumerate(STATES)}
    return sorted(out, key=lambda c: (not c["overdue"], order[c["state"]], c["id"]))


def case(store: CentralStore, case_id: int, today: date | None = None) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(bad_cases).where(bad_cases.c.id == case_id)).first()
        if row is None:
            return None
        notes = conn.execute(
            select(case_notes).where(case_notes.c.case_id == case_id).order_by(case_notes.c.id)
        ).all()
    return {**dict(row._mapping), "reasons": json.loads(row.reasons),
            "overdue": _overdue(row, today or date.today()),
            "notes": [dict(n._mapping) for n in notes]}  # fmt: skip


def call_back(store: CentralStore, found: dict[str, Any]) -> str | None:
    """The uuid of the feedback the rated visit left with a phone for a call back, if it left
    one: the phone stays sealed, the back office opens that record with the key (audited)."""
    if not found.get("visit_id"):
        return None
    try:
        day = date.fromisoformat(str(found["rated_at"])[:10])
    except ValueError:
        return None
    # The visit's feedback came just before its rating: the day before to the day after holds
    # it across midnight and time zones, and keeps the scan to a few days of one terminal.
    since, until = (day - timedelta(days=1)).isoformat(), (day + timedelta(days=2)).isoformat()
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(transactions.c.uuid, transactions.c.payload)
            .where(transactions.c.kiosk_id == found["kiosk_id"],
                   transactions.c.service == "feedback",
                   transactions.c.created_at >= since, transactions.c.created_at < until)
            .order_by(transactions.c.id)
        ).all()  # fmt: skip
    for row in rows:
        try:
            payload = json.loads(row.payload)
        except ValueError:
            continue
        if payload.get("visit_id") == found["visit_id"] and payload.get("has_phone") is True:
            return str(row.uuid)
    return None


def advance(store: CentralStore, case_id: int, to: str, user: str, note: str) -> None:
    """Move the case on to *to* (the next state only) with a note saying what was done."""
    note = note.strip()
    if not note:
        raise CaseError("say what was done (a note is required)")
    if len(note) > MAX_NOTE:
        raise CaseError(f"a note is at most {MAX_NOTE} characters")
    now = utc_now()
    with store._write() as conn:
        row = conn.execute(select(bad_cases.c.state).where(bad_cases.c.id == case_id)).first()
        if row is None:
            raise CaseError(f"no case {case_id}")
        if NEXT.get(row.state) != to:
            raise CaseError(f"case {case_id} is {row.state}: it cannot go to {to}")
        values: dict[str, Any] = {"state": to, "updated_at": now}
        if to == "resolved":
            values["resolved_at"] = now
        if to == "followed_up":
            values["followed_up_at"] = now
        moved = conn.execute(
            update(bad_cases)
            .where(bad_cases.c.id == case_id, bad_cases.c.state == row.state)
            .values(**values)
        ).rowcount
        if not moved:
            raise CaseError(f"case {case_id} was moved meanwhile: reload it")
        conn.execute(case_notes.insert().values(
            case_id=case_id, at=now, user_name=user, state=to, note=note))  # fmt: skip


def case_figures(
    store: CentralStore,
    *,
    since: date | None = None,
    until: date | None = None,
    group: str | None = None,
    kiosk: str | None = None,
    service: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """整改率 and 回访率 over the cases rated in the period."""
    moment = (today or date.today()).isoformat()
    where = []
    if since is not None:
        where.append(bad_cases.c.rated_at >= since.isoformat())
    if until is not None:
        where.append(bad_cases.c.rated_at < (until + timedelta(days=1)).isoformat())
    for column, value in ((bad_cases.c.grp, group), (bad_cases.c.kiosk_id, kiosk),
                          (bad_cases.c.service, service)):  # fmt: skip
        if value is not None:
            where.append(column == value)
    c = bad_cases.c

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(sql_case((condition, 1), else_=0)), 0)

    unresolved = c.state.in_(("open", "in_progress"))
    with store.engine.connect() as conn:  # one pass of the database's own, whatever the count
        row = conn.execute(
            select(
                func.count(),
                count(c.resolved_at.is_not(None)),
                # resolved_at is UTC, due a local date: a few hours' grace, never a day late
                count(c.resolved_at.is_not(None) & (func.substr(c.resolved_at, 1, 10) <= c.due)),
                count(unresolved & (c.due < moment)),
                count(c.state == "followed_up"),
            ).where(*where)
        ).one()
    cases, resolved, in_time, overdue, followed = (int(v) for v in row)
    # A case counts for 整改率 once it is resolved, or once its day has passed unresolved.
    judged = resolved + overdue
    return {
        "cases": cases,
        "overdue": overdue,
        "resolved": resolved,
        "resolved_in_time": in_time,
        "followed_up": followed,
        "rectification_rate": round(in_time / judged, 4) if judged else None,
        "follow_up_rate": round(followed / resolved, 4) if resolved else None,
    }
