"""The outbox: every transaction a resident makes is committed here before the screen says so.

One SQLite transaction writes the transaction row (UUIDv7 + per-terminal sequence), its outbox
entry and any daily counter it draws from (queue ticket numbers), so none exists without the others.
Personal fields are sealed (offline/sealing.py) in their own column and purged once the platform
has acknowledged them and the retention period has passed. The sync client takes batches from here
and reports the platform's verdict per item: acknowledged, or dead with the reason.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.canonical import canonical_text
from offline.db import connect
from offline.sealing import Sealer, SealingError, load_or_create_key
from offline.uuid7 import uuid7

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024**3  # room for years of visits on any terminal's disk
CAPACITY_WARNING = 0.8
DEFAULT_RETENTION = timedelta(days=7)

OUTBOX_STATES = ("pending", "sent", "acknowledged", "dead")


class OutboxError(Exception):
    """A transaction could not be recorded; nothing was written."""


@dataclass(frozen=True)
class Recorded:
    """What the outbox hands back once a transaction is durably committed."""

    uuid: str
    seq: int
    service: str
    created_at: datetime
    counter_value: int | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxStatus:
    total: int
    by_state: dict[str, int]
    oldest_pending_at: str | None
    size_bytes: int = 0
    max_bytes: int = DEFAULT_MAX_BYTES
    sealed: int = 0  # transactions still holding personal data

    @property
    def waiting(self) -> int:
        return self.by_state["pending"] + self.by_state["sent"]

    @property
    def capacity_used(self) -> float:
        return self.size_bytes / self.max_bytes if self.max_bytes else 0.0

    @property
    def capacity_warning(self) -> bool:
        return self.capacity_used >= CAPACITY_WARNING


@dataclass(frozen=True)
class Outbound:
    """One transaction on its way to the platform, personal fields opened for the journey."""

    seq: int
    uuid: str
    service: str
    payload: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    uuid: str
    service: str
    status: str
    reason: str
    died_at: str


class OutboxStore:
    """Durable, single-writer access to the transactions table and its outbox.

    Safe to share between threads (calls are serialised by a lock), but the application keeps all
    writes on one worker so the Qt main thread never waits on the disk.
    """

    def __init__(
        self,
        path: Path,
        *,
        key_path: Path | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self.path = path
        self.key_path = key_path or path.parent / "keys" / "outbox.key"
        self.max_bytes = max_bytes
        self.retention = retention
        self._conn = connect(path)
        self._lock = threading.Lock()
        self._warned_capacity = False
        try:
            # A new key is only made for an outbox that holds nothing sealed under an old one.
            has_sealed = self._conn.execute(
                "SELECT 1 FROM transactions WHERE personal IS NOT NULL LIMIT 1"
            ).fetchone()
            self._sealer = Sealer(load_or_create_key(self.key_path, create=not has_sealed))
        except SealingError as exc:
            self._conn.close()
            raise OutboxError(str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record(
        self,
        service: str,
        payload: dict[str, Any],
        *,
        personal: dict[str, Any] | None = None,
        counter: str | None = None,
        counter_field: str = "counter_value",
        counter_format: str = "{}",
        now: datetime | None = None,
    ) -> Recorded:
        """Commit one transaction and its outbox entry; return only after the commit is on disk.

        *personal* (name, ID number, phone ...) is sealed into its own column, never stored in the
        clear. With *counter*, the day's next value of that named counter (1, 2, ...) is drawn in
        the same commit and stored in the payload under *counter_field*, formatted with
        *counter_format* (``"A{:03d}"`` makes ``A007``): a queue ticket number can never be
        handed out twice, nor be lost, whatever happens to the process.
        """
        if not service or not isinstance(payload, dict):
            raise OutboxError("a transaction needs a service code and a JSON object payload")
        moment = (now or datetime.now().astimezone()).replace(microsecond=0)
        txn_uuid = str(uuid7())
        sealed = self._sealer.seal(personal, txn_uuid) if personal else None
        with self._lock:
            conn = self._conn
            self._check_capacity(conn)
            try:
                conn.execute("BEGIN IMMEDIATE")
                value: int | None = None
                body = dict(payload)
                if counter is not None:
                    value = self._next_counter(conn, counter, moment.date().isoformat())
                    body[counter_field] = counter_format.format(value)
                cur = conn.execute(
                    "INSERT INTO transactions (uuid, service, payload, created_at, personal)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (txn_uuid, service, canonical_text(body), moment.isoformat(), sealed),
                )
                seq = int(cur.lastrowid or 0)
                conn.execute("INSERT INTO outbox (seq) VALUES (?)", (seq,))
                conn.execute("COMMIT")
            except (sqlite3.Error, TypeError, ValueError) as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                # "database or disk is full" lands here too: nothing was written, and the
                # resident is told so rather than shown a number that does not exist.
                raise OutboxError(f"could not record {service}: {exc}") from exc
        return Recorded(txn_uuid, seq, service, moment, value, body)

    def _size(self, conn: sqlite3.Connection) -> int:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * page_size)

    def _check_capacity(self, conn: sqlite3.Connection) -> None:
        size = self._size(conn)
        if size >= self.max_bytes:
            raise OutboxError(
                f"outbox is full ({size} of {self.max_bytes} bytes): nothing recorded; "
                "deliver waiting transactions or raise the limit"
            )
        warn = size >= CAPACITY_WARNING * self.max_bytes
        if warn and not self._warned_capacity:
            log.warning("outbox at %.0f%% of its %d-byte limit", 100 * size / self.max_bytes,
                        self.max_bytes)  # fmt: skip
        self._warned_capacity = warn

    @staticmethod
    def _next_counter(conn: sqlite3.Connection, name: str, day: str) -> int:
        row = conn.execute(
            "INSERT INTO counters (name, day, value) VALUES (?, ?, 1)"
            " ON CONFLICT (name, day) DO UPDATE SET value = value + 1 RETURNING value",
            (name, day),
        ).fetchone()
        return int(row[0])

    # -- delivery -----------------------------------------------------------------------------
    def take_batch(self, limit: int, now: datetime | None = None) -> list[Outbound]:
        """The oldest *limit* undelivered transactions, in sequence order, marked as sent.

        "sent" only means "in flight": anything not acknowledged is taken again next time (after
        a crash too), and the platform's dedupe makes the resend harmless.
        """
        stamp = (now or datetime.now().astimezone()).isoformat()
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute(
                    "SELECT t.seq, t.uuid, t.service, t.payload, t.created_at, t.personal"
                    " FROM outbox o JOIN transactions t USING (seq)"
                    " WHERE o.state IN ('pending', 'sent') ORDER BY o.seq LIMIT ?",
                    (int(limit),),
                ).fetchall()
                conn.executemany(
                    "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?"
                    " WHERE seq = ?",
                    [(stamp, row[0]) for row in rows],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        batch = []
        for seq, uid, service, payload, created_at, sealed in rows:
            body = json.loads(payload)
            if sealed is not None:
                try:
                    body["personal"] = self._sealer.open(sealed, uid)
                except SealingError as exc:
                    self.bury([(seq, "unreadable", str(exc))], now)
                    continue
            batch.append(Outbound(seq, uid, service, body, created_at))
        return batch

    def acknowledge(self, seqs: Iterable[int], now: datetime | None = None) -> int:
        stamp = (now or datetime.now().astimezone()).isoformat()
        with self._lock:
            cur = self._conn.executemany(
                "UPDATE outbox SET state = 'acknowledged', acknowledged_at = ?, reason = NULL"
                " WHERE seq = ? AND state IN ('pending', 'sent')",
                [(stamp, seq) for seq in seqs],
            )
            return int(cur.rowcount)

    def release(self, seqs: Iterable[int]) -> None:
        """Put in-flight transactions back to pending (the request failed; they go again)."""
        with self._lock:
            self._conn.executemany(
                "UPDATE outbox SET state = 'pending' WHERE seq = ? AND state = 'sent'",
                [(seq,) for seq in seqs],
            )

    def bury(self, verdicts: Iterable[tuple[int, str, str]], now: datetime | None = None) -> None:
        """Move transactions the platform refused for good to the dead letters, with the reason:
        (seq, status, reason). They never block the ones behind them."""
        stamp = (now or datetime.now().astimezone()).isoformat()
        items = list(verdicts)
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "UPDATE outbox SET state = 'dead', reason = ? WHERE seq = ?",
                    [(f"{status}: {reason}", seq) for seq, status, reason in items],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO dead_letters (seq, status, reason, died_at)"
                    " VALUES (?, ?, ?, ?)",
                    [(seq, status, reason, stamp) for seq, status, reason in items],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        for seq, status, reason in items:
            log.warning("transaction seq=%d dead: %s: %s", seq, status, reason)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The refused transactions with their reasons; no personal field is ever included."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT d.seq, t.uuid, t.service, d.status, d.reason, d.died_at"
                " FROM dead_letters d JOIN transactions t USING (seq) ORDER BY d.seq LIMIT ?",
                (int(limit),),
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def purge_personal(self, now: datetime | None = None) -> int:
        """Drop the sealed personal data of transactions settled (acknowledged or dead) longer
        ago than the retention period; returns how many were purged."""
        moment = now or datetime.now().astimezone()
        cutoff = (moment - self.retention).isoformat()
        with self._lock:
            cur = self._conn.execute(
                "UPDATE transactions SET personal = NULL, personal_purged_at = ?"
                " WHERE personal IS NOT NULL AND seq IN ("
                "   SELECT o.seq FROM outbox o LEFT JOIN dead_letters d USING (seq)"
                "   WHERE (o.state = 'acknowledged' AND o.acknowledged_at <= ?)"
                "      OR (o.state = 'dead' AND d.died_at <= ?))",
                (moment.isoformat(), cutoff, cutoff),
            )
            return int(cur.rowcount)

    def set_fact(self, name: str, value: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO facts (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def facts(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT name, value FROM facts").fetchall())

    # -- reading ------------------------------------------------------------------------------
    def status(self) -> OutboxStatus:
        with self._lock:
            rows = self._conn.execute(
                "SELECT state, COUNT(*) FROM outbox GROUP BY state"
            ).fetchall()
            oldest = self._conn.execute(
                "SELECT MIN(t.created_at) FROM outbox o JOIN transactions t USING (seq)"
                " WHERE o.state IN ('pending', 'sent')"
            ).fetchone()[0]
            sealed = self._conn.execute(
                "SELECT COUNT(*) FROM transactions WHERE personal IS NOT NULL"
            ).fetchone()[0]
            size = self._size(self._conn)
        by_state = dict.fromkeys(OUTBOX_STATES, 0)
        by_state.update({str(state): int(n) for state, n in rows})
        return OutboxStatus(
            sum(by_state.values()), by_state, oldest, size, self.max_bytes, int(sealed)
        )

    def transaction(self, txn_uuid: str) -> dict[str, Any] | None:
        """One transaction with its outbox state, or None: for the CLI, tests and technicians.
        Personal fields are not included, only whether the transaction still holds any."""
        with self._lock:
            row = self._conn.execute(
                "SELECT t.seq, t.uuid, t.service, t.payload, t.created_at, o.state,"
                " t.personal IS NOT NULL"
                " FROM transactions t JOIN outbox o USING (seq) WHERE t.uuid = ?",
                (txn_uuid,),
            ).fetchone()
        if row is None:
            return None
        seq, uid, service, payload, created_at, state, has_personal = row
        return {
            "seq": seq,
            "uuid": uid,
            "service": service,
            "payload": json.loads(payload),
            "created_at": created_at,
            "state": state,
            "holds_personal_data": bool(has_personal),
        }


def verdicts_by_seq(
    batch: Iterable[Outbound], results: Mapping[str, tuple[str, str | None]]
) -> tuple[list[int], list[tuple[int, str, str]], list[int]]:
    """Split a batch by the platform's per-item answers (uuid -> (status, reason)) into
    (acknowledged seqs, dead verdicts, seqs with no answer to send again)."""
    ok: list[int] = []
    dead: list[tuple[int, str, str]] = []
    missing: list[int] = []
    for item in batch:
        answer = results.get(item.uuid)
        if answer is None:
            missing.append(item.seq)
        elif answer[0] in ("accepted", "duplicate"):
            ok.append(item.seq)
        else:
            dead.append((item.seq, answer[0], answer[1] or answer[0]))
    return ok, dead, missing
