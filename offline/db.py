"""Opening the terminal's SQLite database durably and bringing its schema up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

# Each entry is one schema version; the list index + 1 is the version it produces. Never edit a
# released entry: add a new one, because terminals in the field may be on any earlier version.
MIGRATIONS: Sequence[str] = (
    """
    CREATE TABLE transactions (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- per-terminal sequence, never reused
        uuid       TEXT NOT NULL UNIQUE,               -- UUIDv7, the platform's dedupe key
        service    TEXT NOT NULL,
        payload    TEXT NOT NULL,                      -- canonical JSON
        created_at TEXT NOT NULL                       -- ISO 8601 with offset
    );
    CREATE TABLE outbox (
        seq             INTEGER PRIMARY KEY REFERENCES transactions(seq),
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'acknowledged', 'dead')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        reason          TEXT
    );
    CREATE INDEX outbox_state ON outbox(state, seq);
    CREATE TABLE counters (
        name  TEXT NOT NULL,
        day   TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (name, day)
    );
    """,
    # 2: personal data sealed beside the payload; delivery times; dead letters; small facts.
    """
    ALTER TABLE transactions ADD COLUMN personal BLOB;   -- AES-GCM sealed, NULL once purged
    ALTER TABLE transactions ADD COLUMN personal_purged_at TEXT;
    ALTER TABLE outbox ADD COLUMN sent_at TEXT;
    ALTER TABLE outbox ADD COLUMN acknowledged_at TEXT;
    CREATE TABLE dead_letters (
        seq     INTEGER PRIMARY KEY REFERENCES transactions(seq),
        status  TEXT NOT NULL,                             -- the platform's verdict
        reason  TEXT NOT NULL,
        died_at TEXT NOT NULL
    );
    CREATE TABLE facts (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)


class DatabaseError(Exception):
    """The database cannot be opened or brought up to date; the message says why."""


def connect(path: Path, *, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """Open (creating if needed) the database at *path* in WAL mode with full fsync on commit
    and secure delete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise DatabaseError(f"{path}: cannot switch to WAL journal (got {mode})")
        # FULL: a commit has reached the disk when execute() returns, even in WAL mode.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Deleted and overwritten values are zeroed in their pages, not only unlinked: a purge of
        # personal data must leave nothing in free pages or cells for the outbox key to open.
        conn.execute("PRAGMA secure_delete = ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path}: {exc}") from exc
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the database's version, each in its own transaction."""
    current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise DatabaseError(
            f"database schema version {current} is newer than this software knows "
            f"({len(MIGRATIONS)}); refusing to touch it"
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        script = MIGRATIONS[version - 1]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return schema_version(conn)


def _split(script: str) -> list[str]:
    # executescript() would COMMIT implicitly; splitting keeps each migration in one transaction.
    # Comments go first, so one after a statement's semicolon cannot swallow the next statement.
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in code.split(";") if s.strip()]
