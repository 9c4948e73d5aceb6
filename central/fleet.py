"""The fleet as an operator needs it: every terminal, whether it is online (its last heartbeat's
age), what it runs, and what needs a technician, problems first. Read by the console's fleet
page and ``kiosk-central fleet``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from central.store import CentralStore
from central.tables import config_reports, heartbeats, kiosks

OFFLINE_AFTER = 600.0  # seconds without a heartbeat: offline (terminals send one a minute)
QUEUE_DEEP = 100  # records waiting on a terminal: its link or the platform is behind
QUEUE_OLD = 3600.0  # seconds the oldest waiting record has waited: the same, for a quiet terminal


@dataclass
class Terminal:
    id: str
    group: str
    online: bool
    last_seen: str | None
    age_seconds: float | None
    app_version: str | None
    config_version: int | None
    config_status: str | None
    config_reason: str | None
    queue_depth: int | None
    oldest_waiting_seconds: float | None
    dead_letters: int
    devices: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # stable codes: offline, device:NAME:FAULT

    @property
    def state(self) -> str:
        """offline, attention (online with problems) or ok."""
        if not self.online:
            return "offline"
        return "attention" if self.problems else "ok"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state}


def _age(last_seen: str | None, now: datetime) -> float | None:
    if not last_seen:
        return None
    try:
        seen = datetime.fromisoformat(last_seen)
    except ValueError:
        return None
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return max(0.0, round((now - seen).total_seconds(), 1))


def problems_of(t: Terminal) -> list[str]:
    found = []
    if not t.online:
        found.append("never_seen" if t.last_seen is None else "offline")
    for device in t.devices:
        if device.get("state") not in (None, "ready", "disabled"):
            found.append(
                f"device:{device.get('name')}:{device.get('fault_code') or device['state']}"
            )
    for worker in t.workers:
        if worker.get("state") == "restarting":
            found.append(f"worker:{worker.get('name')}:{worker.get('fault') or 'restarting'}")
    if t.config_status in ("rolled_back", "rejected"):
        found.append(f"config:{t.config_status}")
    if t.queue_depth is not None and t.queue_depth > QUEUE_DEEP:
        found.append("queue_deep")
    if t.oldest_waiting_seconds is not None and t.oldest_waiting_seconds > QUEUE_OLD:
        found.append("queue_old")
    if t.dead_letters:
        found.append("dead_letters")
    return found


def fleet(
    store: CentralStore,
    *,
    group: str | None = None,
    state: str | None = None,
    now: datetime | None = None,
) -> list[Terminal]:
    """Every registered terminal (of *group*, in *state*), problems first, then by id."""
    moment = now or datetime.now(UTC)
    query = (
        select(
            kiosks.c.id, kiosks.c.grp, heartbeats.c.last_seen, heartbeats.c.app_version,
            heartbeats.c.devices, heartbeats.c.workers, heartbeats.c.queue_depth,
            heartbeats.c.oldest_waiting_seconds, heartbeats.c.dead_letters,
            config_reports.c.version, config_reports.c.status, config_reports.c.reason,
        )
        .select_from(
            kiosks.outerjoin(heartbeats, heartbeats.c.kiosk_id == kiosks.c.id)
            .outerjoin(config_reports, config_reports.c.kiosk_id == kiosks.c.id)
        )
    )  # fmt: skip
    if group is not None:
        query = query.where(kiosks.c.grp == group)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for row in rows:
        age = _age(row.last_seen, moment)
        t = Terminal(
            id=row.id, group=row.grp or "", online=age is not None and age < OFFLINE_AFTER,
            last_seen=row.last_seen, age_seconds=age, app_version=row.app_version,
            config_version=row.version, config_status=row.status, config_reason=row.reason,
            queue_depth=row.queue_depth, oldest_waiting_seconds=row.oldest_waiting_seconds,
            dead_letters=int(row.dead_letters or 0),
            devices=json.loads(row.devices) if row.devices else [],
            workers=json.loads(row.workers) if row.workers else [],
        )  # fmt: skip
        t.problems = problems_of(t)
        if state is None or t.state == state:
            out.append(t)
    order = {"offline": 0, "attention": 1, "ok": 2}
    return sorted(out, key=lambda t: (order[t.state], -len(t.problems), t.id))


def summary(terminals: list[Terminal]) -> dict[str, int]:
    counts = {"total": len(terminals), "ok": 0, "attention": 0, "offline": 0}
    for t in terminals:
        counts[t.state] += 1
    return counts
