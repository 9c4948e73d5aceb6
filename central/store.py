"""The platform's storage through SQLAlchemy Core: kiosks, received transactions, heartbeats,
appointment check-ins.

SQLite (the default, one file) and PostgreSQL (``postgresql+psycopg://``) run the same statements;
only the upsert spelling differs by dialect. ``UNIQUE(kiosk_id, uuid)`` is kept forever: a terminal
may be offline for weeks and still resend, and the resend must stay a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from contracts.canonical import canonical_text
from contracts.wire import (
    MAX_PAYLOAD_BYTES,
    MAX_PAYLOAD_DEPTH,
    ItemStatus,
    item_fingerprint,
)

SCHEMA_VERSION = 3
SQLITE_BUSY_TIMEOUT_MS = 10_000

metadata = MetaData()

# The integer primary key must be spelled INTEGER on SQLite to be its auto-incrementing rowid.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

kiosks = Table(
    "kiosks",
    metadata,
    Column("id", Text, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("grp", Text),
    Column("created_at", Text, nullable=False),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("kiosk_id", Text, nullable=False),
    Column("uuid", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("service", Text, nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("payload_sha256", Text, nullable=False),  # item_fingerprint(): service+seq+payload+time
    Column("created_at", Text, nullable=False),  # as the terminal sent it
    Column("received_at", Text, nullable=False),
    UniqueConstraint("kiosk_id", "uuid", name="transactions_kiosk_uuid"),
    Index("transactions_kiosk_seq", "kiosk_id", "seq", "id"),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("last_seen", Text, nullable=False),
    Column("app_version", Text, nullable=False),
    Column("devices", Text, nullable=False),  # JSON array
    Column("queue_depth", BigInteger, nullable=False),
)

# Configuration bundles published to groups, and what each kiosk reported (central/rollout.py).
config_bundles = Table(
    "config_bundles",
    metadata,
    Column("grp", Text, primary_key=True),
    Column("version", BigInteger, primary_key=True),
    Column("raw", LargeBinary, nullable=False),
    Column("percent", Integer, nullable=False),
    Column("published_at", Text, nullable=False),
)

config_reports = Table(
    "config_reports",
    metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("version", BigInteger),  # the version the terminal runs now
    Column("status", Text, nullable=False),  # applied, rejected, rolled_back
    Column("reported_version", BigInteger),  # the version the report is about
    Column("reason", Text),
    Column("reported_at", Text, nullable=False),
)

# The first check-in of each appointment code (central/services.py). Only the code, never who the
# resident is: the code alone decides "already checked in".
appointment_checkins = Table(
    "appointment_checkins",
    metadata,
    Column("code", Text, primary_key=True),
    Column("day", Text, nullable=False),  # the appointment's date, ISO
    Column("counter", Text, nullable=False),  # the window the appointment is at
    Column("position", Integer, nullable=False),  # arrival order at that window that day
    Column("kiosk_id", Text, nullable=False),
    Column("checked_in_at", Text, nullable=False),
    Index("appointment_checkins_day_counter", "day", "counter"),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

# Schema steps after version 1: MIGRATIONS[n] takes a database from version n to n + 1, inside the
# same transaction that records the new version. Never edit a released step; add one.
MIGRATIONS: dict[int, Sequence[str]] = {
    # 2: config_bundles and config_reports (central/rollout.py); create_all adds new tables.
    1: (),
    # 3: appointment_checkins (central/services.py); create_all adds it too.
    2: (),
}


class StoreError(Exception):
    """The database cannot be used; the message says why in one line (no password in it)."""


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached or is busy: the request may succeed if retried."""


class KioskExistsError(StoreError):
    pass


class UnknownKioskError(StoreError):
    pass


class Access(Enum):
    GRANTED = "granted"
    FORBIDDEN = "forbidden"  # a real token, but another kiosk's
    UNAUTHENTICATED = "unauthenticated"  # no kiosk has this token (or the kiosk does not exist)


@dataclass(frozen=True)
class IncomingItem:
    """One transaction from a batch, already structurally valid (see contracts.wire.BatchItem)."""

    uuid: str
    seq: int
    service: str
    payload: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class ItemOutcome:
    uuid: str
    status: ItemStatus
    reason: str | None = None


@dataclass(frozen=True)
class ReceivedTransaction:
    uuid: str
    seq: int
    service: str
    payload: dict[str, Any]
    created_at: str
    received_at: str


@dataclass(frozen=True)
class CheckIn:
    """An appointment's check-in: *first* is False when it had been checked in already."""

    first: bool
    position: int
    checked_in_at: str  # UTC ISO 8601, when the first check-in happened


@dataclass(frozen=True)
class _Prepared:
    item: IncomingItem
    uuid: str
    payload_json: str
    fingerprint: str


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def token_digest(token: str) -> str:
    # Tokens are 256 random bits (secrets.token_urlsafe(32)): nobody can guess one from its hash,
    # so a fast hash is enough. A slow password hash only helps low-entropy secrets.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def database_url(raw: str) -> URL:
    """Parse *raw*, steering plain ``postgresql://`` to psycopg 3 (the driver we ship)."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {raw!r}") from exc
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise StoreError(
            f"unsupported database {url.drivername!r}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    if url.get_backend_name() == "sqlite" and url.database in {None, "", ":memory:"}:
        # An in-memory database would vanish with each pooled connection: nothing would persist.
        raise StoreError("SQLite needs a file: sqlite:///PATH")
    return url


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative on purpose: hostile input must not be able to exhaust the interpreter's stack.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def _prepare(item: IncomingItem) -> _Prepared | str:
    """The item ready to store, or the reason it is refused (never echoing the item's content)."""
    try:
        datetime.fromisoformat(item.created_at)
    except ValueError:
        return "created_at is not an ISO 8601 date and time"
    if _depth_exceeds(item.payload, MAX_PAYLOAD_DEPTH):
        return f"payload is nested deeper than {MAX_PAYLOAD_DEPTH} levels"
    try:
        payload_json = canonical_text(item.payload)
        size = len(payload_json.encode("utf-8"))
    except ValueError:  # NaN/Infinity (UnicodeEncodeError is a ValueError too: lone surrogates)
        return "payload holds a value JSON cannot carry (NaN, Infinity or a lone surrogate)"
    if size > MAX_PAYLOAD_BYTES:
        return f"payload is {size} bytes of JSON, more than {MAX_PAYLOAD_BYTES}"
    fingerprint = item_fingerprint(item.service, item.seq, item.payload, item.created_at)
    return _Prepared(item, item.uuid.lower(), payload_json, fingerprint)


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class CentralStore:
    """All database access of the platform. Thread-safe: every call takes a pooled connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def open(cls, raw_url: str) -> CentralStore:
        """Connect, create or upgrade the schema, and return the store; StoreError if impossible."""
        url = database_url(raw_url)
        engine = _make_engine(url)
        store = cls(engine)
        try:
            store._ensure_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- schema -------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        with self._write() as conn:
            metadata.create_all(conn)
            found = conn.execute(select(func.max(schema_version.c.version))).scalar()
            if found is None:
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
                return
            version = int(found)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the database is at schema version {version}, newer than this kiosk-central "
                    f"({SCHEMA_VERSION}): upgrade kiosk-central"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.exec_driver_sql(statement)
            if version != SCHEMA_VERSION:
                conn.execute(schema_version.update().values(version=SCHEMA_VERSION))

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed on leaving the block, rolled back on an exception."""
        try:
            with self.engine.connect() as plain:
                conn = plain.execution_options(central_write=True)
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            raise _store_error(exc) from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except DBAPIError as exc:
            raise _store_error(exc) from exc

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

    def kiosk_exists(self, kiosk_id: str) -> bool:
        with self._read() as conn:
            return (
                conn.execute(select(kiosks.c.id).where(kiosks.c.id == kiosk_id)).first() is not None
            )

    def authenticate(self, kiosk_id: str, token: str) -> Access:
        digest = token_digest(token)
        with self._read() as conn:
            stored = conn.execute(
                select(kiosks.c.token_hash).where(kiosks.c.id == kiosk_id)
            ).scalar_one_or_none()
            if stored is not None and hmac.compare_digest(stored, digest):
                return Access.GRANTED
            owner = conn.execute(select(kiosks.c.id).where(kiosks.c.token_hash == digest)).first()
        # Whether kiosk_id exists is never revealed: a stranger's token gets 401 either way, and a
        # fleet member's token gets 403 for any other id, registered or not.
        return Access.FORBIDDEN if owner is not None else Access.UNAUTHENTICATED

    # -- transactions -------------------------------------------------------------------------

    def ingest(self, kiosk_id: str, items: Sequence[IncomingItem]) -> list[ItemOutcome]:
        """Store one batch in ONE transaction, committed before this returns; outcomes in order.

        Each new uuid is inserted; a uuid already held is a ``duplicate`` if its fingerprint
        matches and a ``conflict`` if not (the stored row is never overwritten). Concurrent calls
        for the same kiosk are safe: the unique constraint decides who inserts, and the loser
        reads the winner's committed fingerprint.
        """
        outcomes: list[ItemOutcome | None] = [None] * len(items)
        first_seen: dict[str, tuple[int, _Prepared | str]] = {}  # uuid -> (index, prepared/reason)
        copies: dict[int, int] = {}  # index of a repeat -> index of its first occurrence
        refused: set[str] = set()  # uuids repeated in the batch with different content
        for index, item in enumerate(items):
            uuid = item.uuid.lower()
            result = _prepare(item)
            if isinstance(result, str):
                outcomes[index] = ItemOutcome(uuid, "rejected", result)
            if uuid not in first_seen:
                first_seen[uuid] = (index, result)
                continue
            first_index, first = first_seen[uuid]
            copies[index] = first_index
            same = (
                isinstance(first, str)
                if isinstance(result, str)
                else not isinstance(first, str) and first.fingerprint == result.fingerprint
            )
            if not same:
                refused.add(uuid)
        prepared = {
            uuid: result
            for uuid, (_, result) in first_seen.items()
            if uuid not in refused and not isinstance(result, str)
        }

        stored = self._insert_absent(kiosk_id, prepared) if prepared else {}

        for index, item in enumerate(items):
            uuid = item.uuid.lower()
            if uuid in refused:
                outcomes[index] = ItemOutcome(
                    uuid,
                    "rejected",
                    "uuid appears more than once in this batch, with different content",
                )
            elif index in copies:
                original = outcomes[copies[index]]
                assert original is not None
                status: ItemStatus = (
                    "duplicate" if original.status == "accepted" else original.status
                )
                outcomes[index] = ItemOutcome(uuid, status, original.reason)
            elif uuid in stored:
                outcomes[index] = stored[uuid]
        assert all(outcome is not None for outcome in outcomes)
        return [outcome for outcome in outcomes if outcome is not None]

    def _insert_absent(
        self, kiosk_id: str, prepared: dict[str, _Prepared]
    ) -> dict[str, ItemOutcome]:
        received_at = utc_now()
        # Sorted by uuid: two batches sharing uuids lock the same index entries in the same order,
        # so PostgreSQL never has to break a deadlock between two resends.
        ordered = sorted(prepared)
        rows = [
            {
                "kiosk_id": kiosk_id,
                "uuid": uuid,
                "seq": prepared[uuid].item.seq,
                "service": prepared[uuid].item.service,
                "payload": prepared[uuid].payload_json,
                "payload_sha256": prepared[uuid].fingerprint,
                "created_at": prepared[uuid].item.created_at,
                "received_at": received_at,
            }
            for uuid in ordered
        ]
        insert = self._insert(transactions).on_conflict_do_nothing(
            index_elements=["kiosk_id", "uuid"]
        )
        outcomes: dict[str, ItemOutcome] = {}
        with self._write() as conn:
            inserted: set[str] = set()
            for chunk_start in range(0, len(rows), 500):
                chunk = rows[chunk_start : chunk_start + 500]
                result = conn.execute(insert.returning(transactions.c.uuid), chunk)
                inserted.update(str(uuid) for uuid in result.scalars())
            held = [uuid for uuid in ordered if uuid not in inserted]
            fingerprints: dict[str, str] = {}
            for part in _chunks(held):
                query = select(transactions.c.uuid, transactions.c.payload_sha256).where(
                    transactions.c.kiosk_id == kiosk_id, transactions.c.uuid.in_(part)
                )
                fingerprints.update({str(u): str(h) for u, h in conn.execute(query)})
        for uuid in ordered:
            if uuid in inserted:
                outcomes[uuid] = ItemOutcome(uuid, "accepted")
            elif fingerprints.get(uuid) == prepared[uuid].fingerprint:
                outcomes[uuid] = ItemOutcome(uuid, "duplicate")
            else:
                outcomes[uuid] = ItemOutcome(
                    uuid, "conflict", "this uuid is already held with different content"
                )
        return outcomes

    def _insert(self, table: Table) -> Any:
        # Both dialects spell "insert unless the key exists" as ON CONFLICT ... DO NOTHING.
        return pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)

    def transactions(
        self, kiosk_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[ReceivedTransaction]:
        """Up to *limit* transactions of *kiosk_id* with seq > *after_seq*, in seq order."""
        query = (
            select(*_RECEIVED_COLUMNS)
            .where(transactions.c.kiosk_id == kiosk_id, transactions.c.seq > after_seq)
            .order_by(transactions.c.seq, transactions.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [_received(row) for row in conn.execute(query)]

    def iter_transactions(
        self, kiosk_id: str, *, page: int = 1000
    ) -> Iterator[ReceivedTransaction]:
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

    def count_transactions(self, kiosk_id: str | None = None) -> int:
        query = select(func.count()).select_from(transactions)
        if kiosk_id is not None:
            query = query.where(transactions.c.kiosk_id == kiosk_id)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    # -- heartbeats ---------------------------------------------------------------------------

    def record_heartbeat(
        self, kiosk_id: str, *, app_version: str, devices: list[dict[str, Any]], queue_depth: int
    ) -> str:
        """Remember the kiosk's latest report; returns the time it was recorded (UTC ISO 8601)."""
        now = utc_now()
        values = {
            "kiosk_id": kiosk_id,
            "last_seen": now,
            "app_version": app_version,
            "devices": canonical_text(devices),
            "queue_depth": queue_depth,
        }
        upsert = (
            self._insert(heartbeats)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["kiosk_id"],
                set_={name: value for name, value in values.items() if name != "kiosk_id"},
            )
        )
        with self._write() as conn:
            conn.execute(upsert)
        return now

    def heartbeat(self, kiosk_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(heartbeats).where(heartbeats.c.kiosk_id == kiosk_id)).first()
        if row is None:
            return None
        found = dict(row._mapping)
        found["devices"] = json.loads(found["devices"])
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


_RECEIVED_COLUMNS = (
    transactions.c.uuid,
    transactions.c.seq,
    transactions.c.service,
    transactions.c.payload,
    transactions.c.created_at,
    transactions.c.received_at,
)


def _received(row: Any) -> ReceivedTransaction:
    return ReceivedTransaction(
        uuid=row.uuid,
        seq=int(row.seq),
        service=row.service,
        payload=json.loads(row.payload),
        created_at=row.created_at,
        received_at=row.received_at,
    )


def _store_error(exc: DBAPIError) -> StoreError:
    # The driver's first line says what is wrong (refused connection, locked file, bad password).
    text = str(exc.orig if exc.orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailableError(f"database unavailable: {first}")
    return StoreError(f"database error: {first}")


def _make_engine(url: URL) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            assert url.database is not None
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5, "application_name": "kiosk-central"},
        )
    except (ArgumentError, NoSuchModuleError, ImportError, OSError) as exc:
        raise StoreError(f"cannot use {url.render_as_string(hide_password=True)}: {exc}") from exc


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (below); sqlite3's own implicit BEGIN would be deferred and
    # would not cover SELECTs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a batch acknowledged to a terminal is on disk, even if the host loses power next.
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A write transaction takes the write lock up front (IMMEDIATE), so two concurrent batches
    # queue on busy_timeout instead of one failing when it upgrades from a read to a write.
    write = conn.get_execution_options().get("central_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
