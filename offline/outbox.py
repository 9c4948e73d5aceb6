"""The outbox: every transaction a resident makes is committed here before the screen says so.

One SQLite transaction writes the transaction row (UUIDv7 + per-terminal sequence), its outbox
entry and any daily counter it draws from (queue ticket numbers), so none exists without the others.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from offline.db import connect
from offline.uuid7 import uuid7

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


def canonical_json(payload: dict[str, Any]) -> str:
    """Sorted keys, UTF-8, no insignificant whitespace: the same payload always hashes the same."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class OutboxStore:
    """Durable, single-writer access to the transactions table and its outbox.

    Safe to share between threads (calls are serialised by a lock), but the application keeps all
    writes on one worker so the Qt main thread never waits on the disk.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def record(
        self,
        service: str,
        payload: dict[str, Any],
        *,
        counter: str | None = None,
        counter_field: str = "counter_value",
        counter_format: str = "{}",
        now: datetime | None = None,
    ) -> Recorded:
        """Commit one transaction and its outbox entry; return only after the commit is on disk.

        With *counter*, the day's next value of that named counter (1, 2, ...) is drawn in the same
        commit and stored in the payload under *counter_field*, formatted with *counter_format*
        (``"A{:03d}"`` makes ``A007``): a queue ticket number can never be handed out twice, nor
        be lost, whatever happens to the process.
        """
        if not service or not isinstance(payload, dict):
            raise OutboxError("a transaction needs a service code and a JSON object payload")
        moment = (now or datetime.now().astimezone()).replace(microsecond=0)
        txn_uuid = str(uuid7())
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                value: int | None = None
                body = dict(payload)
                if counter is not None:
                    value = self._next_counter(conn, counter, moment.date().isoformat())
                    body[counter_field] = counter_format.format(value)
                cur = conn.execute(
                    "INSERT INTO transactions (uuid, service, payload, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (txn_uuid, service, canonical_json(body), moment.isoformat()),
                )
                seq = int(cur.lastrowid or 0)
                conn.execute("INSERT INTO outbox (seq) VALUES (?)", (seq,))
                conn.execute("COMMIT")
            except (sqlite3.Error, TypeError, ValueError) as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise OutboxError(f"could not record {service}: {exc}") from exc
        return Recorded(txn_uuid, seq, service, moment, value, body)

    @staticmethod
    def _next_counter(conn: sqlite3.Connection, name: str, day: str) -> int:
        row = conn.execute(
            "INSERT INTO counters (name, day, value) VALUES (?, ?, 1)"
            " ON CONFLICT (name, day) DO UPDATE SET value = value + 1 RETURNING value",
            (name, day),
        ).fetchone()
        return int(row[0])

    def status(self) -> OutboxStatus:
        with self._lock:
            rows = self._conn.execute(
                "SELECT state, COUNT(*) FROM outbox GROUP BY state"
            ).fetchall()
            oldest = self._conn.execute(
                "SELECT MIN(t.created_at) FROM outbox o JOIN transactions t USING (seq)"
                " WHERE o.state IN ('pending', 'sent')"
            ).fetchone()[0]
        by_state = dict.fromkeys(OUTBOX_STATES, 0)
        by_state.update({str(state): int(n) for state, n in rows})
        return OutboxStatus(sum(by_state.values()), by_state, oldest)

    def transaction(self, txn_uuid: str) -> dict[str, Any] | None:
        """One transaction with its outbox state, or None: for the CLI, tests and technicians."""
        with self._lock:
            row = self._conn.execute(
                "SELECT t.seq, t.uuid, t.service, t.payload, t.created_at, o.state"
                " FROM transactions t JOIN outbox o USING (seq) WHERE t.uuid = ?",
                (txn_uuid,),
            ).fetchone()
        if row is None:
            return None
        seq, uid, service, payload, created_at, state = row
        return {
            "seq": seq,
            "uuid": uid,
            "service": service,
            "payload": json.loads(payload),
            "created_at": created_at,
            "state": state,
        }
