"""What the outbox keeps, and for how long: the SQL behind purging personal data, dropping
delivered rows and counting what still waits. Each function runs on a connection the caller owns
(and locks); none commits, so the caller decides what one transaction holds.

What must stay is what ordering and deduplication need: every transaction not yet acknowledged
(its uuid is the platform's dedupe key when it is sent again), the dead letters (technicians read
them), and the highest sequence ever handed out, which SQLite's AUTOINCREMENT keeps in
``sqlite_sequence`` after the rows themselves have gone, so a sequence number is never reused.
"""

from __future__ import annotations

import sqlite3

# What a row costs on disk beyond its payload and sealed data (uuid twice with its index, times,
# outbox row, cell headers): measured at about 180 bytes; a little under, so the estimate of what
# waits never exceeds the file it lives in.
ROW_BYTES = 160
_WAITING = "o.state IN ('pending', 'sent')"


def live_bytes(conn: sqlite3.Connection) -> int:
    """The database's size less its free pages: cheap, and never less than what waits."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * page_size)


def waiting_bytes(conn: sqlite3.Connection) -> int:
    """About how much of the database the undelivered transactions take: only these count
    against the size limit, since delivered ones give way when room is needed."""
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(length(CAST(t.payload AS BLOB))"
        " + COALESCE(length(t.personal), 0)), 0)"
        f" FROM outbox o JOIN transactions t USING (seq) WHERE {_WAITING}"
    ).fetchone()
    return int(row[0]) * ROW_BYTES + int(row[1])


def purge_personal(conn: sqlite3.Connection, cutoff: str, stamp: str) -> int:
    """Drop the sealed personal data of transactions settled (acknowledged or dead) at or
    before *cutoff*; with ``secure_delete`` on, the bytes are overwritten, not only unlinked."""
    cur = conn.execute(
        "UPDATE transactions SET personal = NULL, personal_purged_at = ?"
        " WHERE personal IS NOT NULL AND seq IN ("
        "   SELECT o.seq FROM outbox o LEFT JOIN dead_letters d USING (seq)"
        "   WHERE (o.state = 'acknowledged' AND o.acknowledged_at <= ?)"
        "      OR (o.state = 'dead' AND d.died_at <= ?))",
        (stamp, cutoff, cutoff),
    )
    return int(cur.rowcount)


def drop_delivered(conn: sqlite3.Connection, cutoff: str | None, limit: int) -> int:
    """Delete up to *limit* of the oldest acknowledged transactions, those acknowledged at or
    before *cutoff* (any, when None: room is needed now). Returns how many went."""
    # A NULL acknowledged_at is a row acknowledged before schema 2 recorded when: old enough.
    when = "" if cutoff is None else " AND (acknowledged_at IS NULL OR acknowledged_at <= ?)"
    args = () if cutoff is None else (cutoff,)
    seqs = [
        (row[0],)
        for row in conn.execute(
            f"SELECT seq FROM outbox WHERE state = 'acknowledged'{when} ORDER BY seq LIMIT ?",
            (*args, int(limit)),
        )
    ]
    conn.executemany("DELETE FROM outbox WHERE seq = ?", seqs)
    conn.executemany("DELETE FROM transactions WHERE seq = ?", seqs)
    return len(seqs)


def fold_wal(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the database and truncate it to nothing, so frames holding purged
    values leave the disk's files. False when a reader elsewhere kept it from finishing."""
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def is_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (the disk, or the database's page limit)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_FULL
