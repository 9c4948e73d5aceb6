"""Alerts: rules over the fleet and the 差评 cases, raised and cleared by themselves, without
flapping, listed on the console and sent to webhooks.

A rule's condition is checked each round (``evaluate``). An alert is *pending* from the first
round its condition holds; it is *raised* once the condition has held for the rule's ``after``
seconds; a raised alert is *cleared* once the condition has been absent for ``clear_after``
seconds (a terminal that comes back for one heartbeat between two outages stays raised). Raising
and clearing each send one notification to every webhook, retried on later rounds until it
is delivered.

Rules and webhooks come from a TOML file (``kiosk-central serve --alerts FILE``, or
KIOSK_CENTRAL_ALERTS); every key is optional:

    [rules]
    offline_minutes = 10        # no heartbeat for this long
    device_fault_minutes = 15   # a device in fault (or absent) this long
    worker_restarting_minutes = 15
    queue_depth = 100           # records waiting on a terminal
    oldest_waiting_minutes = 60 # the oldest of them waiting this long
    dead_letters = true         # records the platform refused for good (the technician looks)
    config_rolled_back = true   # a terminal refused or rolled back a configuration
    case_overdue = true         # a 差评 case past its day, unresolved
    clear_minutes = 2           # a condition gone this long clears its alert

    [[webhooks]]
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."
    format = "wecom"            # json (default), wecom or dingtalk (group robots' text message)
"""

from __future__ import annotations

import json
import logging
import tomllib
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import BigInteger, Column, Index, Integer, Table, Text, select, update

from central.cases import list_cases
from central.database import StoreError
from central.fleet import Terminal, fleet
from central.store import CentralStore
from central.tables import metadata

log = logging.getLogger(__name__)

Format = Literal["json", "wecom", "dingtalk"]

alerts = Table(
    "alerts",
    metadata,
    Column("key", Text, primary_key=True),  # rule:subject
    Column("rule", Text, nullable=False),
    Column("subject", Text, nullable=False),  # a kiosk id, or case:N
    Column("state", Text, nullable=False),  # pending, raised, cleared
    Column("detail", Text, nullable=False),
    Column("since", Text, nullable=False),  # when the condition was first seen (this time)
    Column("seen_at", Text, nullable=False),  # the last round the condition held
    Column("raised_at", Text),
    Column("cleared_at", Text),
    Column("notify", Text),  # raised / cleared: a notification still to deliver
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("alerts_state", "state"),
)


# Every change of every alert, kept: a terminal's page reads its history from here (faults and
# outages with their times), the operator's answer to "since when, and how often".
alert_events = Table(
    "alert_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("event", Text, nullable=False),  # seen, raised, cleared, gone (seen, never raised)
    Column("detail", Text, nullable=False),
    Index("alert_events_subject", "subject", "id"),
)


class AlertsError(StoreError):
    """The alert rules cannot be used; the message says why."""


@dataclass(frozen=True)
class Webhook:
    url: str
    format: Format = "json"


@dataclass(frozen=True)
class Rules:
    offline_minutes: float = 10
    device_fault_minutes: float = 15
    worker_restarting_minutes: float = 15
    queue_depth: int = 100
    oldest_waiting_minutes: float = 60
    dead_letters: bool = True
    config_rolled_back: bool = True
    case_overdue: bool = True
    clear_minutes: float = 2
    webhooks: tuple[Webhook, ...] = field(default_factory=tuple)


def load_rules(path: Path | None) -> Rules:
    if path is None:
        return Rules()
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise AlertsError(f"alerts {path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise AlertsError(f"alerts {path}: {exc}") from None
    known = {f for f in Rules.__dataclass_fields__ if f != "webhooks"}
    rules = raw.get("rules", {})
    unknown = set(rules) - known
    if unknown:
        raise AlertsError(f"alerts {path}: unknown rule {sorted(unknown)[0]!r}")
    hooks = []
    for n, hook in enumerate(raw.get("webhooks", []), start=1):
        url, fmt = hook.get("url"), hook.get("format", "json")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise AlertsError(f"alerts {path}: webhook {n}: url must be http(s)")
        if fmt not in ("json", "wecom", "dingtalk"):
            raise AlertsError(f"alerts {path}: webhook {n}: format json, wecom or dingtalk")
        hooks.append(Webhook(url, fmt))
    try:
        return Rules(**rules, webhooks=tuple(hooks))
    except TypeError as exc:
        raise AlertsError(f"alerts {path}: {exc}") from None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# -- conditions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    rule: str
    subject: str
    detail: str
    after: float  # seconds it must hold before the alert is raised


def conditions(
    rules: Rules, terminals: Iterable[Terminal], overdue: Iterable[dict[str, Any]]
) -> list[Condition]:
    found = []
    for t in terminals:
        if not t.online and t.last_seen is not None:
            age = round((t.age_seconds or 0) / 60)
            found.append(Condition("offline", t.id, f"no heartbeat for {age} min", 0))
        if not t.online:
            continue  # the devices' states are as old as the last heartbeat
        for d in t.devices:
            if d.get("state") not in (None, "ready", "disabled"):
                code = d.get("fault_code") or d.get("state")
                found.append(
                    Condition(
                        f"device:{d.get('name')}",
                        t.id,
                        f"{d.get('name')}: {code}",
                        rules.device_fault_minutes * 60,
                    )
                )
        for w in t.workers:
            if w.get("state") == "restarting":
                found.append(
                    Condition(
                        f"worker:{w.get('name')}",
                        t.id,
                        f"{w.get('name')}: {w.get('fault')}",
                        rules.worker_restarting_minutes * 60,
                    )
                )
        if t.queue_depth is not None and t.queue_depth > rules.queue_depth:
            found.append(Condition("queue_depth", t.id, f"{t.queue_depth} records waiting", 0))
        waited = t.oldest_waiting_seconds
        if waited is not None and waited > rules.oldest_waiting_minutes * 60:
            found.append(
                Condition("queue_age", t.id, f"oldest record waiting {waited / 60:.0f} min", 0)
            )
        if rules.dead_letters and t.dead_letters:
            found.append(Condition("dead_letters", t.id, f"{t.dead_letters} refused for good", 0))
        if rules.config_rolled_back and t.config_status in ("rolled_back", "rejected"):
            found.append(
                Condition(
                    "config", t.id, f"configuration {t.config_status}: {t.config_reason or ''}", 0
                )
            )
    if rules.case_overdue:
        for c in overdue:
            found.append(
                Condition(
                    "case_overdue",
                    f"case:{c['id']}",
                    f"{c['kiosk_id']} {c['service']}: due {c['due']}",
                    0,
                )
            )
    return found


# -- the state machine ---------------------------------------------------------------------------
def evaluate(
    store: CentralStore, rules: Rules, now: datetime | None = None
) -> list[dict[str, Any]]:
    """One round: read the fleet and the cases, move every alert on, deliver what is owed.
    Returns the alerts raised or cleared in this round."""
    moment = now or datetime.now(UTC)
    offline_after = rules.offline_minutes * 60
    terminals = fleet(store, now=moment)
    for t in terminals:  # the rule's own threshold, not the fleet page's
        t.online = t.age_seconds is not None and t.age_seconds < offline_after
    overdue = list_cases(store, state="overdue", today=moment.date()) if rules.case_overdue else []
    current = {f"{c.rule}:{c.subject}": c for c in conditions(rules, terminals, overdue)}
    changed: list[dict[str, Any]] = []
    events: list[tuple[str, str, str, str]] = []
    clear_after = timedelta(minutes=rules.clear_minutes)
    with store._write() as conn:
        rows = {r.key: r for r in conn.execute(select(alerts)).all()}
        for key, cond in current.items():
            row = rows.get(key)
            if row is None or row.state == "cleared":
                values = {
                    "rule": cond.rule,
                    "subject": cond.subject,
                    "detail": cond.detail,
                    "since": _iso(moment),
                    "seen_at": _iso(moment),
                    "state": "pending",
                    "raised_at": None,
                    "cleared_at": None,
                }
                if row is None:
                    conn.execute(alerts.insert().values(key=key, **values))
                else:
                    conn.execute(update(alerts).where(alerts.c.key == key).values(**values))
                since = moment
                state = "pending"
                events.append((cond.subject, cond.rule, "seen", cond.detail))
            else:
                since, state = datetime.fromisoformat(row.since), row.state
                conn.execute(
                    update(alerts)
                    .where(alerts.c.key == key)
                    .values(seen_at=_iso(moment), detail=cond.detail)
                )
            if state == "pending" and (moment - since).total_seconds() >= cond.after:
                conn.execute(
                    update(alerts)
                    .where(alerts.c.key == key)
                    .values(state="raised", raised_at=_iso(moment), notify="raised", attempts=0)
                )
                changed.append({"key": key, "event": "raised", "detail": cond.detail})
                events.append((cond.subject, cond.rule, "raised", cond.detail))
        for key, row in rows.items():
            if key in current or row.state == "cleared":
                continue
            gone_for = moment - datetime.fromisoformat(row.seen_at)
            if row.state == "pending":  # never raised: no message, only the history
                conn.execute(
                    update(alerts)
                    .where(alerts.c.key == key)
                    .values(state="cleared", cleared_at=_iso(moment))
                )
                events.append((row.subject, row.rule, "gone", row.detail))
            elif gone_for >= clear_after:
                conn.execute(
                    update(alerts)
                    .where(alerts.c.key == key)
                    .values(state="cleared", cleared_at=_iso(moment), notify="cleared", attempts=0)
                )
                changed.append({"key": key, "event": "cleared", "detail": row.detail})
                events.append((row.subject, row.rule, "cleared", row.detail))
        if events:
            conn.execute(alert_events.insert(), [
                {"at": _iso(moment), "subject": subject, "rule": rule, "event": event,
                 "detail": detail}
                for subject, rule, event, detail in events
            ])  # fmt: skip
    deliver(store, rules.webhooks, moment)
    return changed


# -- notifications ---------------------------------------------------------------------------------
def message(event: str, row: Any) -> str:
    word = "告警" if event == "raised" else "恢复"
    return (
        f"【自助终端{word}】{row.subject} {row.rule}: {row.detail} ({row.raised_at or row.since})"
    )


def body(hook: Webhook, event: str, row: Any) -> dict[str, Any]:
    if hook.format in ("wecom", "dingtalk"):  # both group robots take this text message
        return {"msgtype": "text", "text": {"content": message(event, row)}}
    return {
        "event": event,
        "rule": row.rule,
        "subject": row.subject,
        "detail": row.detail,
        "since": row.since,
        "raised_at": row.raised_at,
        "cleared_at": row.cleared_at,
    }


def _post(url: str, payload: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        if not 200 <= answer.status < 300:
            raise OSError(f"HTTP {answer.status}")


MAX_ATTEMPTS = 20


def deliver(store: CentralStore, hooks: Iterable[Webhook], now: datetime) -> int:
    """Send every notification owed to every webhook; what fails is tried next round (up to
    MAX_ATTEMPTS). Returns how many were delivered."""
    hooks = list(hooks)
    with store.engine.connect() as conn:
        owed = conn.execute(select(alerts).where(alerts.c.notify.is_not(None))).all()
    sent = 0
    for row in owed:
        failed = False
        for hook in hooks:
            try:
                _post(hook.url, body(hook, row.notify, row))
            except OSError as exc:
                failed = True
                log.warning("alert %s: webhook %s: %s", row.key, hook.url.split("?")[0], exc)
        with store._write() as conn:
            if failed and row.attempts + 1 < MAX_ATTEMPTS:
                conn.execute(
                    update(alerts).where(alerts.c.key == row.key).values(attempts=row.attempts + 1)
                )
            else:
                conn.execute(update(alerts).where(alerts.c.key == row.key).values(notify=None))
                sent += not failed
    return sent


def listing(store: CentralStore, *, cleared_since: date | None = None) -> list[dict[str, Any]]:
    """Raised alerts first, then pending, then those cleared lately (newest first)."""
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(alerts)).all()]
    if cleared_since is not None:
        rows = [
            r
            for r in rows
            if r["state"] != "cleared" or (r["cleared_at"] or "") >= cleared_since.isoformat()
        ]
    order = {"raised": 0, "pending": 1, "cleared": 2}
    return sorted(rows, key=lambda r: (order[r["state"]], r["raised_at"] or r["since"]))


def history(store: CentralStore, subject: str, limit: int = 100) -> list[dict[str, Any]]:
    """The alert events of one terminal (or case:N), newest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(alert_events)
            .where(alert_events.c.subject == subject)
            .order_by(alert_events.c.id.desc())
            .limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows]
