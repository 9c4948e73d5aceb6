"""The platform's database tables, the schema version and the migrations between versions.

``UNIQUE(kiosk_id, uuid)`` is kept forever: a terminal may be offline for weeks and still resend,
and the resend must stay a duplicate. Times are stored as text, UTC ISO 8601 (``utc_now()``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
)

from central.database import StoreError

SCHEMA_VERSION = 9

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
    # Schema 6: NULL (no personal part), 'sealed' (in personal_sealed), 'purged' (retention
    # removed it), or 'clear': a payload.personal stored in the clear before schema 6, never
    # shown, sealed once a personal-data key is registered (central/backoffice.py).
    Column("personal", Text),
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
    Column("workers", Text, nullable=False, server_default="[]"),  # JSON array (schema 5)
    Column("oldest_waiting_seconds", Float),  # schema 8: the outbox's oldest waiting record
    Column("dead_letters", BigInteger, nullable=False, server_default="0"),  # schema 8
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

# Queue calling (central/queue.py): the number each centre (kiosk group, '' for none) serves now,
# per day and ticket prefix. A new day has no row yet, which reads as 0: nothing called.
queue_serving = Table(
    "queue_serving",
    metadata,
    Column("grp", Text, primary_key=True),
    Column("day", Text, primary_key=True),  # the platform's local date, ISO
    Column("prefix", Text, primary_key=True),
    Column("serving", BigInteger, nullable=False),
    Column("updated_at", Text, nullable=False),
)

# The centres' calling systems, each with its own token (only a SHA-256 kept, like a kiosk's):
# a token moves only the queues of its own group.
queue_callers = Table(
    "queue_callers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("grp", Text),
    Column("created_at", Text, nullable=False),
)

# Personal data (schema 6), apart from the transactions: the API server stores sealed parts here
# and never holds the key that opens them; only the back office does (central/backoffice.py).
personal_sealed = Table(
    "personal_sealed",
    metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("uuid", Text, primary_key=True),
    Column("key_id", Text, nullable=False),  # the personal-data key it is sealed to
    Column("sealed", LargeBinary, nullable=False),  # ephemeral public key || AES-GCM output
    Column("sealed_by", Text, nullable=False),  # terminal, or platform (a terminal before sealing)
    Column("received_at", Text, nullable=False),  # retention counts from here
    Index("personal_sealed_received", "received_at"),
)

# The personal-data public keys the platform knows: the newest not retired seals what terminals
# before sealing still send in the clear. Public halves only.
personal_keys = Table(
    "personal_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("public", Text, nullable=False),  # hex of the raw X25519 public key
    Column("added_at", Text, nullable=False),
    Column("retired_at", Text),
)

# Every opening of a sealed personal part by the back office: who, when, which, why, and whether
# it opened. Nothing personal is written here.
personal_openings = Table(
    "personal_openings",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("opened_at", Text, nullable=False),
    Column("opened_by", Text, nullable=False),  # --by, else the OS user
    Column("os_user", Text, nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("uuid", Text, nullable=False),
    Column("key_id", Text),
    Column("why", Text, nullable=False),
    Column("via", Text, nullable=False),  # open, export
    Column("outcome", Text, nullable=False),  # opened, or failed: the reason
    Index("personal_openings_uuid", "uuid"),
)

# Certificates the terminals printed (schema 7), from their outbox records (central/ingest.py):
# what the public verification page checks a reference against
# (central/certificate_register.py). The holder only masked, as the paper shows it.
certificates = Table(
    "certificates",
    metadata,
    Column("reference", Text, primary_key=True),  # canonical (contracts/certificates.py)
    Column("kiosk_id", Text, nullable=False),
    Column("uuid", Text, nullable=False),  # the transaction that recorded it
    Column("kind", Text, nullable=False),  # the option code, e.g. insured_certificate
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("holder_name", Text, nullable=False),  # masked: 张*英
    Column("holder_id", Text, nullable=False),  # masked: 1101**********0029
    Column("issued_at", Text, nullable=False),  # the record's created_at, the terminal's clock
    Column("received_at", Text, nullable=False),
)

# The back office's work on request slips (schema 7, central/slips.py): one row per
# query_request transaction it has taken up, with where delivery stands. Nothing personal: the
# phone and the answer are made again from the sealed part at each attempt, never kept.
slip_deliveries = Table(
    "slip_deliveries",
    metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("uuid", Text, primary_key=True),
    # pending (due at next_attempt_at), sending (leased until lease_until), sent, failed (gave
    # up after the attempts allowed, or refused by the gateway), undeliverable (no phone, not
    # openable, purged, a query the back office cannot answer)
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Text, nullable=False),
    Column("lease_until", Text),
    Column("gateway", Text),  # the gateway of the last attempt: log, http
    Column("outcome", Text),  # the last attempt's result, in words (no personal value)
    Column("answer_status", Text),  # ok, not_found, refused: what the SMS said
    Column("sent_at", Text),
    Column("updated_at", Text, nullable=False),
    Index("slip_deliveries_due", "status", "next_attempt_at"),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)


# Schema steps after version 1: MIGRATIONS[n] takes a database from version n to n + 1, inside the
# same transaction that records the new version. Never edit a released step; add one.
def _add_heartbeat_workers(conn: Connection) -> None:
    """Schema 5: heartbeats.workers. create_all made it already when the table is new in this
    very upgrade (an old database without heartbeats); add it only where it is missing."""
    if "workers" not in {c["name"] for c in inspect(conn).get_columns("heartbeats")}:
        conn.exec_driver_sql("ALTER TABLE heartbeats ADD COLUMN workers TEXT NOT NULL DEFAULT '[]'")


def _add_heartbeat_outbox_age(conn: Connection) -> None:
    """Schema 8: heartbeats.oldest_waiting_seconds and heartbeats.dead_letters."""
    found = {c["name"] for c in inspect(conn).get_columns("heartbeats")}
    if "oldest_waiting_seconds" not in found:
        conn.exec_driver_sql("ALTER TABLE heartbeats ADD COLUMN oldest_waiting_seconds FLOAT")
    if "dead_letters" not in found:
        conn.exec_driver_sql(
            "ALTER TABLE heartbeats ADD COLUMN dead_letters BIGINT NOT NULL DEFAULT 0"
        )


def _fill_coarser_rollups(conn: Connection) -> None:
    from central.kpi_tables import fill_from_finer

    fill_from_finer(conn)


def _add_transactions_personal(conn: Connection) -> None:
    """Schema 6: transactions.personal, and the payloads that hold a personal part in the clear
    (terminals before sealing sent one) marked 'clear', so no read shows it and registering a
    personal-data key seals it. The new tables come from create_all."""
    if "personal" not in {c["name"] for c in inspect(conn).get_columns("transactions")}:
        conn.exec_driver_sql("ALTER TABLE transactions ADD COLUMN personal TEXT")
    # Canonical JSON, so a top-level key reads "personal":{ (a nested one is sorted out when
    # sealing: a payload whose top level has none goes back to NULL).
    conn.execute(
        transactions.update()
        .where(transactions.c.personal.is_(None))
        .where(transactions.c.payload.like('%"personal":{%'))
        .values(personal="clear")
    )


def _keep_certificates_received(conn: Connection) -> None:
    """Schema 7: the table comes from create_all; certificate records a newer terminal already
    delivered are kept for verification now."""
    from central.certificate_register import backfill

    backfill(conn)


Step = str | Callable[[Connection], None]
MIGRATIONS: dict[int, Sequence[Step]] = {
    # 2: config_bundles and config_reports (central/rollout.py); create_all adds new tables.
    1: (),
    # 3: appointment_checkins (central/services.py); create_all adds it too.
    2: (),
    # 4: queue_serving and queue_callers (central/queue.py); create_all adds them.
    3: (),
    # 5: the terminal's supervised workers in its latest heartbeat.
    4: (_add_heartbeat_workers,),
    # 6: personal data sealed apart: personal_sealed, personal_keys, personal_openings.
    5: (_add_transactions_personal,),
    # 7: certificates (their verification) and slip_deliveries (request slips answered by
    # SMS); create_all adds both.
    6: (_keep_certificates_received,),
    # 8: the outbox's oldest waiting age and dead letters in the latest heartbeat (alerts); the
    # console's tables, the KPI rollups and the alerts come from create_all.
    7: (_add_heartbeat_outbox_age,),
    # 9: coarser KPI rollups (by terminal without the service, by group without the service,
    # the whole fleet by service), filled from the finer ones.
    8: (_fill_coarser_rollups,),
}


def ensure_schema(conn: Connection) -> None:
    """Create the tables, or upgrade them to SCHEMA_VERSION, in *conn*'s write transaction;
    StoreError when the database is newer than this kiosk-central."""
    import central.alerts  # (the alerts' states)
    import central.console.console_tables  # (the console's accounts and audit)
    import central.kpi_tables  # noqa: F401  (the KPI rollups' tables join metadata)

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
            if callable(statement):
                statement(conn)
            else:
                conn.exec_driver_sql(statement)
    if version != SCHEMA_VERSION:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
