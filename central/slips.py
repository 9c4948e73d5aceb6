"""The request-slip worker: a slip a terminal printed offline promised an answer by SMS within a
working day; this keeps that promise. Each slip (a ``query_request`` transaction) is taken up,
its sealed part opened with the back office's key (audited like any opening), its query answered
from the platform's data (central/services.py), and the answer sent through an SMS gateway
(central/sms_gateway.py), with retries; where each slip stands is in ``slip_deliveries``.

It runs where the personal-data private key is (``kiosk-central slips process``), never inside
``serve``: the API server holds no key, so it cannot read the ID number asked about. Its log
lines name slips by kiosk and uuid, never by phone number or ID number; neither the phone nor
the answer is stored, they are made again from the sealed part at each attempt.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select

from central import services
from central.backoffice import Keyring, Opener, open_many
from central.sms_gateway import SmsError, SmsGateway, SmsMessage
from central.store import CentralStore
from central.tables import slip_deliveries, transactions
from contracts.wire import ServiceAnswer, ServiceQuery

log = logging.getLogger("central.slips")

SLIP_SERVICE = "query_request"  # the transaction service of a request slip (kiosk/visit)
WHY = "answer a request slip by SMS (kiosk-central slips process)"
# The services a slip may ask (those with offline = request_slip in the catalogue): records by
# ID number. Names as the message says them.
ANSWERED: dict[str, tuple[str, str]] = {
    "social_security": ("社保查询", "social security record"),
    "medical_insurance": ("医保查询", "medical insurance record"),
    "housing_fund": ("公积金查询", "housing fund record"),
}
SETTLED = ("sent", "failed", "undeliverable")


@dataclass(frozen=True)
class SlipPolicy:
    """How hard to try: attempts in all, the wait after the n-th failure (base * 2^(n-1), at
    most cap), and how long a claimed slip is this worker's before another may take it."""

    max_attempts: int = 5
    retry_base: float = 30.0
    retry_cap: float = 600.0
    lease: float = 120.0
    sign: str = "社区服务中心"  # the SMS signature, 【...】, the sender as the resident knows it

    def wait_after(self, attempts: int) -> float:
        return float(min(self.retry_cap, self.retry_base * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Outcome:
    kiosk_id: str
    uuid: str
    status: str  # sent, pending (retry due later), failed, undeliverable
    detail: str


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


class SlipWorker:
    def __init__(
        self,
        store: CentralStore,
        keyring: Keyring,
        opener: Opener,
        gateway: SmsGateway,
        policy: SlipPolicy | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        today: Callable[[], date] = date.today,
    ) -> None:
        self.store, self.keyring, self.opener, self.gateway = store, keyring, opener, gateway
        self.policy = policy or SlipPolicy()
        self.now, self.today = now, today

    # -- taking slips up ---------------------------------------------------------------------

    def take_up(self) -> int:
        """Start a delivery row (pending, due now) for every slip without one; returns how many."""
        delivered = select(slip_deliveries.c.uuid).where(
            slip_deliveries.c.kiosk_id == transactions.c.kiosk_id,
            slip_deliveries.c.uuid == transactions.c.uuid,
        )
        query = select(transactions.c.kiosk_id, transactions.c.uuid).where(
            transactions.c.service == SLIP_SERVICE, ~delivered.exists()
        )
        stamp = _stamp(self.now())
        with self.store._write() as conn:
            rows = [
                {"kiosk_id": row.kiosk_id, "uuid": row.uuid, "status": "pending",
                 "attempts": 0, "next_attempt_at": stamp, "updated_at": stamp}
                for row in conn.execute(query)
            ]  # fmt: skip
            if rows:
                insert = self.store._insert(slip_deliveries).on_conflict_do_nothing()
                conn.execute(insert, rows)
        return len(rows)

    # -- one round ---------------------------------------------------------------------------

    def process_due(self) -> list[Outcome]:
        """Attempt every slip due now (each claimed first, so two workers never send one slip
        twice at once); the outcomes in the order attempted."""
        outcomes = []
        while (claimed := self._claim()) is not None:
            outcomes.append(self._attempt(*claimed))
        return outcomes

    def next_due(self) -> datetime | None:
        """When the earliest pending slip is due, None when none is pending."""
        with self.store._read() as conn:
            found = conn.execute(
                select(func.min(slip_deliveries.c.next_attempt_at)).where(
                    slip_deliveries.c.status.in_(("pending", "sending"))
                )
            ).scalar()
        return None if found is None else datetime.fromisoformat(found)

    def _due(self, stamp: str) -> Any:
        return or_(
            and_(slip_deliveries.c.status == "pending", slip_deliveries.c.next_attempt_at <= stamp),
            and_(slip_deliveries.c.status == "sending", slip_deliveries.c.lease_until < stamp),
        )

    def _claim(self) -> tuple[str, str, int] | None:
        moment = self.now()
        stamp = _stamp(moment)
        lease = _stamp(moment + timedelta(seconds=self.policy.lease))
        with self.store._write() as conn:
            candidates = conn.execute(
                select(slip_deliveries.c.kiosk_id, slip_deliveries.c.uuid,
                       slip_deliveries.c.attempts)
                .where(self._due(stamp))
                .order_by(slip_deliveries.c.next_attempt_at)
                .limit(10)
            ).all()  # fmt: skip
            for row in candidates:
                taken = conn.execute(
                    slip_deliveries.update()
                    .where(slip_deliveries.c.kiosk_id == row.kiosk_id,
                           slip_deliveries.c.uuid == row.uuid, self._due(stamp))
                    .values(status="sending", lease_until=lease, updated_at=stamp)
                )  # fmt: skip
                if taken.rowcount == 1:
                    return str(row.kiosk_id), str(row.uuid), int(row.attempts)
        return None

    def _attempt(self, kiosk_id: str, uuid: str, attempts: int) -> Outcome:
        attempts += 1
        prepared = self._prepare(kiosk_id, uuid)
        if isinstance(prepared, str):
            return self._settle(kiosk_id, uuid, attempts, "undeliverable", prepared)
        message, answer_status = prepared
        try:
            said = self.gateway.send(message)
        except SmsError as exc:
            if not exc.transient:
                return self._settle(kiosk_id, uuid, attempts, "failed",
                                    f"refused by the gateway: {exc}")  # fmt: skip
            if attempts >= self.policy.max_attempts:
                return self._settle(kiosk_id, uuid, attempts, "failed",
                                    f"gave up after {attempts} attempt(s): {exc}")  # fmt: skip
            return self._retry_later(kiosk_id, uuid, attempts, str(exc))
        return self._settle(kiosk_id, uuid, attempts, "sent", said, answer_status)

    def _prepare(self, kiosk_id: str, uuid: str) -> tuple[SmsMessage, str] | str:
        """The message for one slip, or why there can be none (in words, no personal value)."""
        with self.store._read() as conn:
            row = conn.execute(
                select(transactions.c.payload, transactions.c.personal).where(
                    transactions.c.kiosk_id == kiosk_id, transactions.c.uuid == uuid
                )
            ).first()
        if row is None:
            return "no such transaction"
        payload = json.loads(row.payload)
        query, language = payload.get("query"), payload.get("language", "zh_CN")
        if query not in ANSWERED:
            return f"a slip for {query!r}: not a query answered by SMS"
        if row.personal != "sealed":
            return {
                None: "the slip holds no personal part: nothing to answer",
                "purged": "its personal part was purged (past the retention period)",
            }.get(row.personal, "its personal part came in the clear: register a key first")
        found = open_many(self.store, kiosk_id, [uuid], self.keyring, self.opener, via="slips")
        if not found:
            return "its personal part is not held"
        opened = found[0]
        if opened.fields is None:
            return f"cannot open its personal part: {opened.error}"
        identifier = str(opened.fields.get("identifier", ""))
        try:
            asked = ServiceQuery.model_validate(
                {"service": query, "identifier": identifier,
                 "language": language if language in ("zh_CN", "en") else "zh_CN"}
            )  # fmt: skip
        except ValidationError:
            return "the slip's ID number is not a valid one"
        phone = str(opened.fields.get("phone") or "") or services.registered_phone(identifier)
        if not phone:
            return "no mobile number on file for the resident: the answer waits at a window"
        answer = services.answer(asked, today=self.today(), book=self.store, kiosk_id=kiosk_id)
        text = compose(asked.service, asked.language, str(payload.get("ticket") or ""),
                       answer, self.policy.sign)  # fmt: skip
        return SmsMessage(phone, text, f"{kiosk_id}/{uuid}"), answer.status

    def _settle(
        self, kiosk_id: str, uuid: str, attempts: int, status: str, detail: str,
        answer_status: str | None = None,
    ) -> Outcome:  # fmt: skip
        stamp = _stamp(self.now())
        values: dict[str, Any] = {
            "status": status, "attempts": attempts, "lease_until": None,
            "gateway": self.gateway.name, "outcome": detail, "updated_at": stamp,
            "answer_status": answer_status, "sent_at": stamp if status == "sent" else None,
        }  # fmt: skip
        self._update(kiosk_id, uuid, values)
        log.info("slip %s/%s: %s after %d attempt(s): %s", kiosk_id, uuid, status, attempts, detail)
        return Outcome(kiosk_id, uuid, status, detail)

    def _retry_later(self, kiosk_id: str, uuid: str, attempts: int, detail: str) -> Outcome:
        moment = self.now()
        due = moment + timedelta(seconds=self.policy.wait_after(attempts))
        self._update(kiosk_id, uuid, {
            "status": "pending", "attempts": attempts, "lease_until": None,
            "next_attempt_at": _stamp(due), "gateway": self.gateway.name,
            "outcome": f"attempt {attempts} failed: {detail}", "updated_at": _stamp(moment),
        })  # fmt: skip
        log.warning("slip %s/%s: attempt %d failed (%s); next at %s", kiosk_id, uuid, attempts,
                    detail, _stamp(due))  # fmt: skip
        return Outcome(kiosk_id, uuid, "pending", detail)

    def _update(self, kiosk_id: str, uuid: str, values: dict[str, Any]) -> None:
        with self.store._write() as conn:
            conn.execute(
                slip_deliveries.update()
                .where(slip_deliveries.c.kiosk_id == kiosk_id, slip_deliveries.c.uuid == uuid)
                .values(**values)
            )

    # -- running -----------------------------------------------------------------------------

    def run(self, *, loop: bool, interval: float, stop: threading.Event) -> dict[str, int]:
        """Take up and attempt slips. Once (*loop* False): until every slip taken up is settled
        (sent, failed or undeliverable), waiting for the retries it schedules. With *loop*:
        also looking for new slips every *interval* seconds, until *stop*. Counts by outcome."""
        counts = dict.fromkeys(("sent", "failed", "undeliverable", "retried"), 0)
        while not stop.is_set():
            self.take_up()
            for outcome in self.process_due():
                counts["retried" if outcome.status == "pending" else outcome.status] += 1
            due = self.next_due()
            if due is None and not loop:
                break
            wait = interval if loop else 3600.0
            if due is not None:
                wait = min(wait, max(0.0, (due - self.now()).total_seconds()))
            stop.wait(wait)
        return counts


def compose(query: str, language: str, ticket: str, answer: ServiceAnswer, sign: str) -> str:
    """The message: who sends it, what was asked (the slip's number), the answer's lines."""
    name_zh, name_en = ANSWERED[query]
    if language == "en":
        lines = "; ".join(f"{f.label_en}: {f.value}" for f in answer.fields)
        slip = f" (slip {ticket})" if ticket else ""
        return (f"[{sign}] Your {name_en} request at the self-service terminal{slip}: {lines}. "
                "Questions: bring the slip to a staffed window.")  # fmt: skip
    lines = "；".join(f"{f.label_zh}：{f.value}" for f in answer.fields)
    slip = f"（申请单{ticket}）" if ticket else ""
    return (f"【{sign}】您在自助终端提交的{name_zh}申请{slip}结果：{lines}。"
            "如有疑问，请凭申请单到人工窗口咨询。")  # fmt: skip


def deliveries(store: CentralStore, *, status: str | None = None) -> list[dict[str, Any]]:
    """Where each slip stands, oldest first (no personal value in any of it)."""
    query = select(slip_deliveries).order_by(slip_deliveries.c.updated_at)
    if status is not None:
        query = query.where(slip_deliveries.c.status == status)
    with store._read() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def requeue(store: CentralStore, *, uuids: list[str], failed: bool) -> int:
    """Put failed or undeliverable slips back in line (after the gateway or a key is fixed):
    the named *uuids*, or with *failed* every failed one. Returns how many."""
    stamp = _stamp(datetime.now(UTC))
    query = slip_deliveries.update().where(
        slip_deliveries.c.status.in_(("failed", "undeliverable"))
    )
    if uuids:
        query = query.where(slip_deliveries.c.uuid.in_([u.lower() for u in uuids]))
    elif failed:
        query = query.where(slip_deliveries.c.status == "failed")
    else:
        return 0
    with store._write() as conn:
        done = conn.execute(
            query.values(status="pending", attempts=0, next_attempt_at=stamp, updated_at=stamp,
                         outcome="put back in line")
        )  # fmt: skip
    return int(done.rowcount)
