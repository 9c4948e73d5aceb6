"""The outbox: every transaction a resident makes is committed here before the screen says so.

One SQLite transaction writes the transaction row (UUIDv7 + per-terminal sequence), its outbox
entry and any daily counter it draws from (queue ticket numbers), so none exists without the others.
Personal fields are sealed (offline/sealing.py) in their own column and purged once the platform
has acknowledged them and the retention period has passed; delivered rows follow them
(offline/retention.py). They leave the terminal only sealed to the platform's personal-data key
(contracts/personal.py), sealed at the first send and kept in that form; without that key they
wait here, never sent in the clear. The sync client takes batches from here and reports the
platform's verdict per item, each batch in one commit: acknowledged, or dead with the reason.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.canonical import canonical_text
from contracts.personal import (
    MAX_PERSONAL_BYTES,
    PersonalKey,
    PersonalSealError,
    SealedPersonal,
    seal,
)
from offline import retention
from offline.db import connect
from offline.sealing import (
    FORMAT_V1,
    Sealer,
    SealingError,
    for_platform,
    load_or_create_key,
    platform_part,
)
from offline.uuid7 import uuid7

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024**3  # room for years of visits on any terminal's disk
CAPACITY_WARNING = 0.8
DEFAULT_RETENTION = timedelta(days=7)
DROP_BATCH = 2000  # delivered rows deleted per commit: a resident's record() waits for no more

OUTBOX_STATES = ("pending", "sent", "acknowledged", "dead")


class OutboxError(Exception):
    """A transaction could not be recorded; nothing was written."""


class OutboxFull(OutboxError):
    """No room: what waits has reached the size limit, or the disk is full. Nothing was
    written, and nothing recorded before is lost."""


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
    size_bytes: int = 0  # the whole database, delivered rows still kept included
    max_bytes: int = DEFAULT_MAX_BYTES
    sealed: int = 0  # transactions still holding personal data
    waiting_bytes: int = 0  # what counts against max_bytes: the undelivered transactions
    disk_full: bool = False  # the last record() found the disk (not the limit) full
    # Waiting with personal fields not yet sealed to the platform: they go once its
    # personal-data key is known (a signed configuration's personal_key), never in the clear.
    unsealed_waiting: int = 0

    @property
    def waiting(self) -> int:
        return self.by_state["pending"] + self.by_state["sent"]

    @property
    def capacity_used(self) -> float:
        return self.waiting_bytes / self.max_bytes if self.max_bytes else 0.0

    @property
    def capacity(self) -> str:
        """``ok``; ``warning`` from 80 % (deliver, or raise the limit, before residents are
        refused); ``full`` when new transactions are refused."""
        if self.disk_full or self.capacity_used >= 1:
            return "full"
        return "warning" if self.capacity_used >= CAPACITY_WARNING else "ok"

    @property
    def capacity_warning(self) -> bool:
        return self.capacity != "ok"


@dataclass(frozen=True)
class Outbound:
    """One transaction on its way to the platform, its personal fields sealed to the platform."""

    seq: int
    uuid: str
    service: str
    payload: dict[str, Any]
    created_at: str
    sealed: SealedPersonal | None = None


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
        self._disk_full = False
        self._fold_due = False  # a purge could not truncate the WAL: try again next time
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
        if personal:
            # Refused now rather than at the first send, where the platform's seal would refuse
            # it and the resident would long be gone.
            size = len(canonical_text(personal).encode("utf-8", "surrogatepass"))
            if size > MAX_PERSONAL_BYTES:
                raise OutboxError(
                    f"could not record {service}: personal fields are {size} bytes of JSON, "
                    f"more than {MAX_PERSONAL_BYTES}"
                )
        sealed = self._sealer.seal(personal, txn_uuid) if personal else None
        with self._lock:
            try:
                self._check_capacity()
                with self._transaction() as conn:
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
            except (sqlite3.Error, TypeError, ValueError) as exc:
                # Nothing was written, and the resident is told so rather than shown a number
                # that does not exist; a full disk is named, for the technician's status too.
                self._disk_full = retention.is_full(exc)
                if self._disk_full:
                    log.error("outbox: the disk is full; refusing %s", service)
                    raise OutboxFull(
                        f"could not record {service}: the disk is full: nothing recorded; "
                        "free space on the data directory's disk"
                    ) from exc
                raise OutboxError(f"could not record {service}: {exc}") from exc
            self._disk_full = False
        return Recorded(txn_uuid, seq, service, moment, value, body)

    def _check_capacity(self) -> None:
        # Cheap first: what waits is part of the live file, so a file under the warning mark
        # needs no counting. Only near the limit is what waits summed up.
        conn = self._conn
        live = retention.live_bytes(conn)
        if live < CAPACITY_WARNING * self.max_bytes:
            self._warned_capacity = False
            return
        if live >= self.max_bytes:
            # Delivered rows kept for the retention period give way before a resident does.
            with self._transaction():
                retention.drop_delivered(conn, None, DROP_BATCH)
        waiting = retention.waiting_bytes(conn)
        if waiting >= self.max_bytes:
            raise OutboxFull(
                f"outbox is full ({waiting} bytes waiting, limit {self.max_bytes}): nothing "
                "recorded; deliver waiting transactions or raise the limit"
            )
        warn = waiting >= CAPACITY_WARNING * self.max_bytes
        if warn and not self._warned_capacity:
            log.warning("outbox at %.0f%% of its %d-byte limit with what waits to be delivered",
                        100 * waiting / self.max_bytes, self.max_bytes)  # fmt: skip
        self._warned_capacity = warn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (the caller holds the lock): all of it reaches the disk in one
        commit, hence one fsync, or none of it does."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """The lock and one transaction; a database error becomes an OutboxError, which the
        sync worker treats as local trouble to report and retry, not as a reason to die."""
        with self._lock:
            try:
                with self._transaction() as conn:
                    yield conn
            except sqlite3.Error as exc:
                kind = OutboxFull if retention.is_full(exc) else OutboxError
                raise kind(f"outbox: {exc}") from exc

    @staticmethod
    def _next_counter(conn: sqlite3.Connection, name: str, day: str) -> int:
        row = conn.execute(
            "INSERT INTO counters (name, day, value) VALUES (?, ?, 1)"
            " ON CONFLICT (name, day) DO UPDATE SET value = value + 1 RETURNING value",
            (name, day),
        ).fetchone()
        return int(row[0])

    # -- delivery -----------------------------------------------------------------------------
    def take_batch(
        self, limit: int, now: datetime | None = None, *, seal_to: PersonalKey | None = None
    ) -> list[Outbound]:
        """The oldest *limit* undelivered transactions, in sequence order, marked as sent.

        "sent" only means "in flight": anything not acknowledged is taken again next time (after
        a crash too), and the platform's dedupe makes the resend harmless.

        Personal fields travel sealed to the platform's key *seal_to*. A transaction whose fields
        are still only sealed locally is sealed to it now, and that form replaces the local one
        for good, so a resend carries the same bytes (a new seal would be a conflict). Without
        *seal_to* such transactions are left waiting, not sent in the clear, and the ones
        behind them go.
        """
        stamp = (now or datetime.now().astimezone()).isoformat()
        with self._write() as conn:
            rows = conn.execute(
                "SELECT t.seq, t.uuid, t.service, t.payload, t.created_at, t.personal"
                " FROM outbox o JOIN transactions t USING (seq)"
                " WHERE o.state IN ('pending', 'sent')"
                "   AND (? OR t.personal IS NULL OR substr(t.personal, 1, 1) <> ?)"
                " ORDER BY o.seq LIMIT ?",
                (seal_to is not None, FORMAT_V1, int(limit)),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?"
                " WHERE seq = ?",
                [(stamp, row[0]) for row in rows],
            )
        batch: list[Outbound] = []
        dead: list[tuple[int, str, str]] = []
        resealed: list[tuple[int, bytes, bytes]] = []  # (seq, sealed to the platform, local)
        for seq, uid, service, payload, created_at, blob in rows:
            part: SealedPersonal | None = None
            try:
                if blob is not None:
                    part = platform_part(blob)
                    if part is None:  # sealed locally only: the platform's seal, once
                        assert seal_to is not None  # the query left these out without a key
                        part = seal(seal_to, self._sealer.open(blob, uid), uid)
                        resealed.append((seq, for_platform(part), blob))
            except (SealingError, PersonalSealError) as exc:
                dead.append((seq, "unreadable", str(exc)))
                continue
            batch.append(Outbound(seq, uid, service, json.loads(payload), created_at, part))
        if resealed:
            kept = self._keep_platform_seals(resealed)
            batch = [
                replace(out, sealed=kept[out.seq]) if out.seq in kept else out for out in batch
            ]
        if dead:
            self.bury(dead, now)
        return batch

    def _keep_platform_seals(
        self, resealed: list[tuple[int, bytes, bytes]]
    ) -> dict[int, SealedPersonal]:
        """Store each transaction's platform seal in place of its local one, in one commit. Where
        another sender (``kiosk queue sync`` beside the running terminal) stored its own first,
        that one is what goes: one transaction, one sealed form, or its resends would conflict."""
        kept: dict[int, SealedPersonal] = {}
        with self._write() as conn:
            for seq, new, old in resealed:
                cur = conn.execute(
                    "UPDATE transactions SET personal = ? WHERE seq = ? AND personal = ?",
                    (new, seq, old),
                )
                if cur.rowcount:
                    continue
                row = conn.execute(
                    "SELECT personal FROM transactions WHERE seq = ?", (seq,)
                ).fetchone()
                found = platform_part(row[0]) if row is not None and row[0] is not None else None
                if found is None:
                    raise OutboxError(f"outbox: transaction seq={seq} changed while being sealed")
                kept[seq] = found
        return kept

    def acknowledge(self, seqs: Iterable[int], now: datetime | None = None) -> int:
        """Mark what the platform has kept, in one commit: in autocommit each row was its own
        fsync while record() waited for the lock (tests/benches/bench_acknowledge.py)."""
        stamp = (now or datetime.now().astimezone()).isoformat()
        rows = [(stamp, seq) for seq in seqs]
        with self._write() as conn:
            cur = conn.executemany(
                "UPDATE outbox SET state = 'acknowledged', acknowledged_at = ?, reason = NULL"
                " WHERE seq = ? AND state IN ('pending', 'sent')",
                rows,
            )
        return int(cur.rowcount)

    def release(self, seqs: Iterable[int]) -> None:
        """Put in-flight transactions back to pending (the request failed; they go again), in
        one commit like acknowledge()."""
        rows = [(seq,) for seq in seqs]
        with self._write() as conn:
            conn.executemany(
                "UPDATE outbox SET state = 'pending' WHERE seq = ? AND state = 'sent'", rows
            )

    def bury(self, verdicts: Iterable[tuple[int, str, str]], now: datetime | None = None) -> None:
        """Move transactions the platform refused for good to the dead letters, with the reason:
        (seq, status, reason). They never block the ones behind them."""
        stamp = (now or datetime.now().astimezone()).isoformat()
        items = list(verdicts)
        with self._write() as conn:
            conn.executemany(
                "UPDATE outbox SET state = 'dead', reason = ? WHERE seq = ?",
                [(f"{status}: {reason}", seq) for seq, status, reason in items],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO dead_letters (seq, status, reason, died_at)"
                " VALUES (?, ?, ?, ?)",
                [(seq, status, reason, stamp) for seq, status, reason in items],
            )
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
        """Past the retention period: drop the sealed personal data of settled (acknowledged or
        dead) transactions, then the acknowledged rows themselves, then truncate the WAL so no
        older copy stays on disk. Returns how many transactions' personal data was purged.

        The sync worker calls this on its timer; dead letters stay (without personal data) for
        technicians."""
        moment = now or datetime.now().astimezone()
        cutoff = (moment - self.retention).isoformat()
        with self._write() as conn:
            purged = retention.purge_personal(conn, cutoff, moment.isoformat())
        dropped = 0
        while True:  # in slices, so a resident's record() slips in between
            with self._write() as conn:
                batch = retention.drop_delivered(conn, cutoff, DROP_BATCH)
            dropped += batch
            if batch < DROP_BATCH:
                break
        if dropped:
            log.info("outbox: dropped %d delivered transaction(s) past retention", dropped)
        if purged or dropped or self._fold_due:
            self._fold_wal()
        return purged

    def _fold_wal(self) -> None:
        with self._lock:
            try:
                self._fold_due = not retention.fold_wal(self._conn)
            except sqlite3.Error as exc:
                raise OutboxError(f"outbox: {exc}") from exc
        if self._fold_due:  # another process reads the database: its snapshot pins the WAL
            log.warning("outbox: WAL busy; purged values stay in it until the next purge")

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
            unsealed = self._conn.execute(
                "SELECT COUNT(*) FROM outbox o JOIN transactions t USING (seq)"
                " WHERE o.state IN ('pending', 'sent') AND substr(t.personal, 1, 1) = ?",
                (FORMAT_V1,),
            ).fetchone()[0]
            size = retention.live_bytes(self._conn)
            waiting = retention.waiting_bytes(self._conn)
        by_state = dict.fromkeys(OUTBOX_STATES, 0)
        by_state.update({str(state): int(n) for state, n in rows})
        return OutboxStatus(sum(by_state.values()), by_state, oldest, size, self.max_bytes,
                            int(sealed), waiting, self._disk_full, int(unsealed))  # fmt: skip

    def transaction(self, txn_uuid: str) -> dict[str, Any] | None:
        """One transaction with its outbox state, or None: for the CLI, tests and technicians.
        Personal fields are not included, only whether the transaction still holds any and,
        once they are sealed to the platform, the id of the key that opens them."""
        with self._lock:
            row = self._conn.execute(
                "SELECT t.seq, t.uuid, t.service, t.payload, t.created_at, o.state, t.personal"
                " FROM transactions t JOIN outbox o USING (seq) WHERE t.uuid = ?",
                (txn_uuid,),
            ).fetchone()
        if row is None:
            return None
        seq, uid, service, payload, created_at, state, blob = row
        try:
            part = platform_part(blob) if blob is not None else None
        except SealingError:  # damaged: take_batch buries it; here only its key id is missing
            part = None
        return {
            "seq": seq,
            "uuid": uid,
            "service": service,
            "payload": json.loads(payload),
            "created_at": created_at,
            "state": state,
            "holds_personal_data": blob is not None,
            "sealed_for_key": part.key_id if part is not None else None,
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
