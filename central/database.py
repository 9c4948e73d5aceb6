"""Reaching the platform's database: the URL, the engine with SQLite's settings, and the driver's
errors turned into one-line ``StoreError``s (no password in them).

SQLite (the default, one file) and PostgreSQL (``postgresql+psycopg://``) run the same statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class PoolSize:
    """PostgreSQL connections one process keeps (*size*) and may open beyond them at a peak
    (*overflow*); a request that finds all of them busy waits *timeout* seconds, then is a 503.

    A process uses at most size + overflow connections, and 3 more for the statements that run
    in autocommit (CentralStore: a token's lookup, a heartbeat; usually 1 of them), so ``serve
    --workers N`` uses at most N x (size + overflow + 3), plus the supervising process's own
    (2: start-up checks, the purge)."""

    size: int = 8
    overflow: int = 8
    timeout: float = 10.0

    @property
    def most(self) -> int:
        return self.size + self.overflow


class StoreError(Exception):
    """The database cannot be used; the message says why in one line (no password in it)."""


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached or is busy: the request may succeed if retried."""


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


def store_error(exc: DBAPIError) -> StoreError:
    # The driver's first line says what is wrong (refused connection, locked file, bad password).
    text = str(exc.orig if exc.orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailableError(f"database unavailable: {first}")
    return StoreError(f"database error: {first}")


def make_engine(url: URL, pool: PoolSize | None = None, *, autocommit: bool = False) -> Engine:
    """The engine for *url*; for PostgreSQL a queue pool sized by *pool* (default PoolSize()),
    its connections in autocommit with *autocommit* (for statements that stand alone: no
    BEGIN, no COMMIT, nothing to reset when a connection goes back to the pool)."""
    pool = pool or PoolSize()
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
            pool_size=pool.size,
            max_overflow=pool.overflow,
            pool_timeout=pool.timeout,
            # No pre-ping: it cost a round trip (two, with its BEGIN) on every checkout, twice a
            # request. A connection the server dropped (a restart) fails its request with a
            # 503 the terminal retries, and SQLAlchemy then replaces every older pooled one.
            pool_recycle=1800,
            connect_args={"connect_timeout": 5, "application_name": "kiosk-central"},
            **(
                {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
                if autocommit
                else {}
            ),
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
