"""The platform's storage: ``CentralStore``, all its database access (kiosks and their tokens,
received transactions, heartbeats, appointment check-ins) through SQLAlchemy Core.

Where the rest is: the tables and migrations in ``tables.py``, the engine, the database URL and
``StoreError`` in ``database.py``, a batch's exactly-once ingest in ``ingest.py``, configuration
rollouts in ``rollout.py``. SQLite and PostgreSQL run the same statements; only the upsert
spelling differs by dialect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from central.database import (
    DatabaseUnavailableError,
    PoolSize,
    StoreError,
    database_url,
    make_engine,
    store_error,
)
from central.ingest import ingest_batch
from central.tables import (
    appointment_checkins,
    ensure_schema,
    heartbeats,
    kiosks,
    personal_keys,
    transactions,
    utc_now,
)
from contracts.canonical import canonical_text
from contracts.personal import PersonalKey
from contracts.wire import BatchItem, ItemResult, StoredTransaction

AUTOCOMMIT_POOL = 1  # + 2 at a peak: see CentralStore.__init__


class KioskExistsError(StoreError):
    pass


class UnknownKioskError(StoreError):
    pass


class Access(Enum):
    GRANTED = "granted"
    FORBIDDEN = "forbidden"  # a real token, but another kiosk's
    UNAUTHENTICATED = "unauthenticated"  # no kiosk has this token (or the kiosk does not exist)


@dataclass(frozen=True)
class CheckIn:
    """An appointment's check-in: *first* is False when it had been checked in already."""

    first: bool
    position: int
    checked_in_at: str  # UTC ISO 8601, when the first check-in happened


def token_digest(token: str) -> str:
    # Tokens are 256 random bits (secrets.token_urlsafe(32)): nobody can guess one from its hash,
    # so a fast hash is enough. A slow password hash only helps low-entropy secrets.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class CentralStore:
    """All database access of the platform. Thread-safe: every call takes a pooled connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # On PostgreSQL a heartbeat or a batch waits for no other request's transaction but one
        # writing the same kiosk's rows, so the API runs them on its event loop; on SQLite every
        # write queues for the file's lock, so they wait on the thread pool.
        self.writes_without_waiting = self.dialect == "postgresql"
        # PostgreSQL: a second, small pool in autocommit for the statements that stand alone (a
        # token's lookup, a heartbeat), so that no request pays for switching a connection to
        # autocommit and back. The API's event loop takes one connection at a time from it.
        self._autocommit: Engine | None = None
        if self.dialect == "postgresql":
            timeout = float(getattr(engine.pool, "_timeout", PoolSize().timeout))
            self._autocommit = make_engine(
                engine.url, PoolSize(size=AUTOCOMMIT_POOL, overflow=2, timeout=timeout),
                autocommit=True,
            )  # fmt: skip
        # Built once: a statement object reused keeps its compiled form's cache key.
        self._token_of = select(kiosks.c.token_hash).where(kiosks.c.id == bindparam("kiosk_id"))
        self._owner_of = select(kiosks.c.id).where(kiosks.c.token_hash == bindparam("digest"))
        self._heartbeat_upsert = _heartbeat_upsert(self._insert(heartbeats))

    @classmethod
    def open(cls, raw_url: str, *, pool: PoolSize | None = None) -> CentralStore:
        """Connect, create or upgrade the schema, and return the store; StoreError if impossible.

        *pool* sizes a PostgreSQL connection pool (this process's share; SQLite ignores it)."""
        url = database_url(raw_url)
        engine = make_engine(url, pool)
        store = cls(engine)
        try:
            store._ensure_schema()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()
        if self._autocommit is not None:
            self._autocommit.dispose()

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- schema -------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        with self._write() as conn:
            ensure_schema(conn)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed on leaving the block, rolled back on an exception."""
        try:
            with self.engine.connect() as plain:
                conn = plain.execution_options(central_write=True)
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            raise store_error(exc) from exc
        except PoolTimeoutError as exc:
            raise _pool_exhausted() from exc

    @contextmanager
    def _statement(self) -> Iterator[Connection]:
        """For statements that each stand alone (a lookup, one upsert): on PostgreSQL in
        autocommit, each its own transaction, so the request pays no BEGIN and COMMIT round
        trips; on SQLite a write transaction as ``_write`` (its BEGIN and COMMIT cost nothing
        on the network)."""
        if self.dialect != "postgresql":
            with self._write() as conn:
                yield conn
            return
        assert self._autocommit is not None
        try:
            with self._autocommit.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise store_error(exc) from exc
        except PoolTimeoutError as exc:
            raise _pool_exhausted() from exc

    @contextmanager
    def _lookup(self) -> Iterator[Connection]:
        """For reads that need no snapshot across statements: on PostgreSQL in autocommit (no
        BEGIN and COMMIT round trips), on SQLite a plain read transaction."""
        if self.dialect != "postgresql":
            with self._read() as conn:
                yield conn
            return
        with self._statement() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except DBAPIError as exc:
            raise store_error(exc) from exc
        except PoolTimeoutError as exc:
            raise _pool_exhausted() from exc

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError:
            return False
        return True

    # -- kiosks -------------------------------------------------------------------------------

    def add_kiosk(self, kiosk_id: str, group: str | None = None, *, rotate: bool = False) -> str:
        """Register *kiosk_id* (or, with *rotate*, replace its token) and return the new token."""
        token = secrets.token_urlsafe(32)
        digest = token_digest(token)
        with self._write() as conn:
            exists = conn.execute(select(kiosks.c.id).where(kiosks.c.id == kiosk_id)).first()
            if rotate:
                if exists is None:
                    raise UnknownKioskError(f"no kiosk {kiosk_id!r} to rotate the token of")
                values: dict[str, Any] = {"token_hash": digest}
                if group is not None:
                    values["grp"] = group
                conn.execute(kiosks.update().where(kiosks.c.id == kiosk_id).values(**values))
            else:
                if exists is not None:
                    raise KioskExistsError(
                        f"kiosk {kiosk_id!r} is already registered (--rotate gives it a new token)"
                    )
                conn.execute(
                    kiosks.insert().values(
                        id=kiosk_id, token_hash=digest, grp=group, created_at=utc_now()
                    )
                )
        return token

    def add_kiosks(self, kiosk_ids: Sequence[str], group: str | None) -> dict[str, str]:
        """Register many kiosks in one transaction (a load test's fleet), giving those already
        registered a new token; returns each id's token."""
        tokens = {kiosk_id: secrets.token_urlsafe(32) for kiosk_id in kiosk_ids}
        now = utc_now()
        with self._write() as conn:
            held: set[str] = set()
            for part in _id_chunks(list(tokens)):
                held.update(
                    conn.execute(select(kiosks.c.id).where(kiosks.c.id.in_(part))).scalars()
                )
            fresh = [
                {"id": kiosk_id, "token_hash": token_digest(token), "grp": group, "created_at": now}
                for kiosk_id, token in tokens.items()
                if kiosk_id not in held
            ]
            for start in range(0, len(fresh), 500):
                conn.execute(kiosks.insert(), fresh[start : start + 500])
            for kiosk_id in held:
                conn.execute(
                    kiosks.update()
                    .where(kiosks.c.id == kiosk_id)
                    .values(token_hash=token_digest(tokens[kiosk_id]), grp=group)
                )
        return tokens

    def revoke_kiosk(self, kiosk_id: str) -> None:
        """Refuse *kiosk_id*'s token from the next request on, in every API worker (each
        request looks its token up in the database); ``add_kiosk(rotate=True)`` gives it a new
        one. The hash is replaced by a marker no token hashes to (a SHA-256 is 64 hex digits),
        unique as the column wants; what the kiosk delivered stays."""
        marker = f"revoked:{kiosk_id}:{secrets.token_hex(8)}"
        with self._write() as conn:
            changed = conn.execute(
                kiosks.update().where(kiosks.c.id == kiosk_id).values(token_hash=marker)
            ).rowcount
        if not changed:
            raise UnknownKioskError(f"no kiosk {kiosk_id!r}")

    def kiosk_revoked(self, kiosk_id: str) -> bool:
        with self._read() as conn:
            held = conn.execute(
                select(kiosks.c.token_hash).where(kiosks.c.id == kiosk_id)
            ).scalar_one_or_none()
        if held is None:
            raise UnknownKioskError(f"no kiosk {kiosk_id!r}")
        return str(held).startswith("revoked:")

    def kiosk_exists(self, kiosk_id: str) -> bool:
        with self._read() as conn:
            return (
                conn.execute(select(kiosks.c.id).where(kiosks.c.id == kiosk_id)).first() is not None
            )

    def authenticate(self, kiosk_id: str, token: str) -> Access:
        digest = token_digest(token)
        with self._lookup() as conn:  # on every request: each lookup stands alone
            stored = conn.execute(self._token_of, {"kiosk_id": kiosk_id}).scalar_one_or_none()
            if stored is not None and hmac.compare_digest(stored, digest):
                return Access.GRANTED
            owner = conn.execute(self._owner_of, {"digest": digest}).first()
        # Whether kiosk_id exists is never revealed: a stranger's token gets 401 either way, and a
        # fleet member's token gets 403 for any other id, registered or not.
        return Access.FORBIDDEN if owner is not None else Access.UNAUTHENTICATED

    # -- transactions -------------------------------------------------------------------------

    def ingest(self, kiosk_id: str, items: Sequence[BatchItem]) -> list[ItemResult]:
        """Store one batch in ONE transaction, committed before this returns; outcomes in order.

        Each new uuid is inserted; a uuid already held is a ``duplicate`` if its fingerprint
        matches and a ``conflict`` if not (the stored row is never overwritten). Concurrent calls
        for the same kiosk are safe: the unique constraint decides who inserts, and the loser
        reads the winner's committed fingerprint.
        """
        return ingest_batch(self, kiosk_id, items)

    def _insert(self, table: Table) -> Any:
        # Both dialects spell "insert unless the key exists" as ON CONFLICT ... DO NOTHING.
        return pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)

    def transactions(
        self, kiosk_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[StoredTransaction]:
        """Up to *limit* transactions of *kiosk_id* with seq > *after_seq*, in seq order."""
        query = (
            select(*_RECEIVED_COLUMNS)
            .where(transactions.c.kiosk_id == kiosk_id, transactions.c.seq > after_seq)
            .order_by(transactions.c.seq, transactions.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [_received(row) for row in conn.execute(query)]

    def iter_transactions(self, kiosk_id: str, *, page: int = 1000) -> Iterator[StoredTransaction]:
        """Every transaction of *kiosk_id* in seq order, fetched a page at a time (for export)."""
        last: tuple[int, int] | None = None
        while True:
            query = select(*_RECEIVED_COLUMNS, transactions.c.id).where(
                transactions.c.kiosk_id == kiosk_id
            )
            if last is not None:
                query = query.where(tuple_(transactions.c.seq, transactions.c.id) > last)
            query = query.order_by(transactions.c.seq, transactions.c.id).limit(page)
            with self._read() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield _received(row)
            if len(rows) < page:
                return
            last = (int(rows[-1].seq), int(rows[-1].id))

    def current_personal_key(self) -> PersonalKey | None:
        """The newest registered personal-data public key not retired, or None: what the
        platform seals a terminal's clear personal part to (terminals before sealing)."""
        query = (
            select(personal_keys.c.key_id, personal_keys.c.public)
            .where(personal_keys.c.retired_at.is_(None))
            .order_by(personal_keys.c.added_at.desc(), personal_keys.c.key_id)
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else PersonalKey(key_id=row.key_id, public=row.public)

    def count_transactions(self, kiosk_id: str | None = None) -> int:
        query = select(func.count()).select_from(transactions)
        if kiosk_id is not None:
            query = query.where(transactions.c.kiosk_id == kiosk_id)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    # -- heartbeats ---------------------------------------------------------------------------

    def record_heartbeat(
        self,
        kiosk_id: str,
        *,
        app_version: str,
        devices: list[dict[str, Any]],
        queue_depth: int,
        workers: list[dict[str, Any]] | None = None,
        oldest_waiting_seconds: float | None = None,
        dead_letters: int = 0,
    ) -> str:
        """Remember the kiosk's latest report; returns the time it was recorded (UTC ISO 8601)."""
        now = utc_now()
        values = {
            "kiosk_id": kiosk_id,
            "last_seen": now,
            "app_version": app_version,
            "devices": canonical_text(devices),
            "queue_depth": queue_depth,
            "workers": canonical_text(workers or []),
            "oldest_waiting_seconds": oldest_waiting_seconds,
            "dead_letters": dead_letters,
        }
        with self._statement() as conn:  # one statement: atomic by itself
            conn.execute(self._heartbeat_upsert, values)
        return now

    def heartbeat(self, kiosk_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(heartbeats).where(heartbeats.c.kiosk_id == kiosk_id)).first()
        if row is None:
            return None
        found = dict(row._mapping)
        found["devices"] = json.loads(found["devices"])
        found["workers"] = json.loads(found["workers"])
        return found

    # -- appointment check-ins ----------------------------------------------------------------

    def check_in(self, code: str, *, day: str, counter: str, kiosk_id: str) -> CheckIn:
        """Record the first check-in of *code* and its place in the queue at *counter* on *day*;
        a later call returns that first check-in with ``first=False``."""
        with self._write() as conn:
            if self.dialect == "postgresql":
                # Check-ins queue one behind the other, so two at the same window cannot both
                # count the same arrivals and take the same position. (SQLite: BEGIN IMMEDIATE.)
                conn.exec_driver_sql("LOCK TABLE appointment_checkins IN SHARE ROW EXCLUSIVE MODE")
            held = conn.execute(
                select(appointment_checkins.c.position, appointment_checkins.c.checked_in_at).where(
                    appointment_checkins.c.code == code
                )
            ).first()
            if held is not None:
                return CheckIn(False, int(held.position), str(held.checked_in_at))
            earlier = conn.execute(
                select(func.count())
                .select_from(appointment_checkins)
                .where(appointment_checkins.c.day == day, appointment_checkins.c.counter == counter)
            ).scalar_one()
            now = utc_now()
            conn.execute(
                appointment_checkins.insert().values(
                    code=code, day=day, counter=counter, position=int(earlier) + 1,
                    kiosk_id=kiosk_id, checked_in_at=now,
                )
            )  # fmt: skip
        return CheckIn(True, int(earlier) + 1, now)


def _heartbeat_upsert(insert: Any) -> Any:
    """INSERT ... ON CONFLICT (kiosk_id) DO UPDATE with every other column from the new row."""
    columns = (
        "last_seen", "app_version", "devices", "queue_depth", "workers",
        "oldest_waiting_seconds", "dead_letters",
    )  # fmt: skip
    statement = insert.values({"kiosk_id": bindparam("kiosk_id")}).values(
        {name: bindparam(name) for name in columns}
    )
    return statement.on_conflict_do_update(
        index_elements=["kiosk_id"],
        set_={name: getattr(statement.excluded, name) for name in columns},
    )


def _id_chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _pool_exhausted() -> DatabaseUnavailableError:
    # Every pooled connection stayed busy past the pool's timeout: the platform is saturated,
    # which a terminal treats like an outage (503, retry later), not as its own fault.
    return DatabaseUnavailableError(
        "database busy: no free connection in the pool (raise serve --db-pool, or add workers "
        "only if the database has connections to spare)"
    )


_RECEIVED_COLUMNS = (
    transactions.c.uuid,
    transactions.c.seq,
    transactions.c.service,
    transactions.c.payload,
    transactions.c.created_at,
    transactions.c.received_at,
    transactions.c.personal,
)


def _received(row: Any) -> StoredTransaction:
    payload = json.loads(row.payload)
    marker = row.personal
    if marker == "clear":
        # Stored in the clear before schema 6 and not sealed yet (no key registered): never
        # shown to anyone, whatever the token or the command.
        payload.pop("personal", None)
        marker = "unsealed"
    return StoredTransaction(
        uuid=row.uuid,
        seq=int(row.seq),
        service=row.service,
        payload=payload,
        created_at=row.created_at,
        received_at=row.received_at,
        personal=marker,
    )
