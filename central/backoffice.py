"""The back office's side of personal data: opening sealed parts with the private key (every
opening audited: who, when, which, why, and whether it opened), the public keys the platform
knows, sealing what terminals before sealing left in the clear, and retention.

This runs where the private key is (``kiosk-central personal ...`` and ``export
--personal-key``), never in the API server: ``serve`` only ever stores sealed bytes, and needs
no key at all. SQLite writes here run with ``secure_delete`` on and fold the WAL afterwards, so a
purged or re-sealed value leaves no copy in free pages or log frames that the key could open.
PostgreSQL keeps dead row versions until VACUUM; see the README.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Connection, and_, or_, select

from central.database import StoreError
from central.ingest import SEALED_ON_ARRIVAL
from central.store import CentralStore
from central.tables import (
    personal_keys,
    personal_openings,
    personal_sealed,
    transactions,
    utc_now,
)
from contracts.canonical import canonical_text
from contracts.personal import (
    PersonalKey,
    PersonalSealError,
    SealedPersonal,
    key_id_of,
    load_private,
    open_sealed,
    seal,
)
from contracts.wire import item_fingerprint

MAX_WHY = 500
CHUNK = 500


class PersonalError(StoreError):
    """A personal part could not be opened, or a key not used; the message says why."""


@dataclass(frozen=True)
class Opener:
    """Who opens, and why: written to the audit before anything is shown."""

    by: str
    os_user: str
    why: str

    @classmethod
    def of(cls, why: str, by: str | None = None) -> Opener:
        reason = why.strip()
        if not reason:
            raise PersonalError("say why the personal data is opened (--why)")
        if len(reason) > MAX_WHY:
            raise PersonalError(f"--why is longer than {MAX_WHY} characters")
        user = _os_user()
        return cls(by=(by or "").strip() or user, os_user=user, why=reason)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
        return f"uid {os.getuid()}"


class Keyring:
    """The back office's private keys, by key id: the current one and those rotated out while
    records sealed to them are still kept."""

    def __init__(self, keys: Iterable[X25519PrivateKey]) -> None:
        self.keys = {key_id_of(key.public_key()): key for key in keys}

    @classmethod
    def load(cls, paths: Sequence[Path]) -> Keyring:
        try:
            return cls(load_private(path) for path in paths)
        except PersonalSealError as exc:
            raise PersonalError(str(exc)) from exc


@dataclass(frozen=True)
class Opened:
    kiosk_id: str
    uuid: str
    key_id: str | None
    fields: dict[str, Any] | None  # None: it did not open, *error* says why
    error: str | None = None


# -- opening ------------------------------------------------------------------------------------


def open_record(
    store: CentralStore,
    uuid: str,
    keyring: Keyring,
    opener: Opener,
    *,
    kiosk_id: str | None = None,
) -> Opened:
    """Open one record's personal part, audited; PersonalError (also audited) if it cannot."""
    uuid = uuid.lower()
    query = select(personal_sealed.c.kiosk_id).where(personal_sealed.c.uuid == uuid)
    if kiosk_id is not None:
        query = query.where(personal_sealed.c.kiosk_id == kiosk_id)
    with store._read() as conn:
        owners = sorted({str(row.kiosk_id) for row in conn.execute(query)})
    if len(owners) > 1:
        raise PersonalError(f"{uuid} is held for several kiosks ({', '.join(owners)}): --kiosk")
    if not owners:
        raise PersonalError(f"no personal part held for {uuid}{_why_none(store, uuid, kiosk_id)}")
    (opened,) = open_many(store, owners[0], [uuid], keyring, opener, via="open")
    if opened.fields is None:
        raise PersonalError(f"{uuid}: {opened.error}")
    return opened


def _why_none(store: CentralStore, uuid: str, kiosk_id: str | None) -> str:
    query = select(transactions.c.personal).where(transactions.c.uuid == uuid)
    if kiosk_id is not None:
        query = query.where(transactions.c.kiosk_id == kiosk_id)
    with store._read() as conn:
        markers = {row.personal for row in conn.execute(query)}
    if not markers:
        return " (no such transaction)"
    if "purged" in markers:
        return " (purged: past the retention period)"
    if "clear" in markers:
        return " (received in the clear before sealing: register a personal-data key first)"
    return " (the transaction has none)"


def open_many(
    store: CentralStore,
    kiosk_id: str,
    uuids: Sequence[str],
    keyring: Keyring,
    opener: Opener,
    *,
    via: str,
) -> list[Opened]:
    """Open the personal parts of *uuids* (those of *kiosk_id* that have one), and audit each
    attempt in one commit before any is returned: nothing is shown that is not on record."""
    found: dict[str, tuple[str, bytes]] = {}
    with store._read() as conn:
        for start in range(0, len(uuids), CHUNK):
            part = [u.lower() for u in uuids[start : start + CHUNK]]
            query = select(
                personal_sealed.c.uuid, personal_sealed.c.key_id, personal_sealed.c.sealed
            ).where(personal_sealed.c.kiosk_id == kiosk_id, personal_sealed.c.uuid.in_(part))
            for row in conn.execute(query):
                found[str(row.uuid)] = (str(row.key_id), bytes(row.sealed))
    results = []
    for uuid in (u.lower() for u in uuids):
        if uuid not in found:
            continue
        key_id, raw = found[uuid]
        results.append(_open_one(kiosk_id, uuid, key_id, raw, keyring))
    stamp = utc_now()
    rows = [
        {
            "opened_at": stamp,
            "opened_by": opener.by,
            "os_user": opener.os_user,
            "kiosk_id": kiosk_id,
            "uuid": opened.uuid,
            "key_id": opened.key_id,
            "why": opener.why,
            "via": via,
            "outcome": "opened" if opened.fields is not None else f"failed: {opened.error}",
        }
        for opened in results
    ]
    if rows:
        with store._write() as conn:
            for start in range(0, len(rows), CHUNK):
                conn.execute(personal_openings.insert(), rows[start : start + CHUNK])
    return results


def _open_one(kiosk_id: str, uuid: str, key_id: str, raw: bytes, keyring: Keyring) -> Opened:
    private = keyring.keys.get(key_id)
    if private is None:
        given = ", ".join(sorted(keyring.keys)) or "none"
        return Opened(kiosk_id, uuid, key_id, None, f"sealed to key {key_id}; keys given: {given}")
    try:
        sealed = SealedPersonal.of(key_id, raw)
        return Opened(kiosk_id, uuid, key_id, open_sealed(private, sealed, uuid))
    except (PersonalSealError, ValueError) as exc:
        return Opened(kiosk_id, uuid, key_id, None, str(exc))


def openings(
    store: CentralStore, *, uuid: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The audit, newest first."""
    query = select(personal_openings).order_by(personal_openings.c.id.desc()).limit(limit)
    if uuid is not None:
        query = query.where(personal_openings.c.uuid == uuid.lower())
    with store._read() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


# -- keys ---------------------------------------------------------------------------------------


def register_key(store: CentralStore, key: PersonalKey) -> int:
    """Make *key* the one the platform seals clear personal parts to (terminals before sealing),
    then seal those stored in the clear before schema 6. Returns how many were sealed."""
    with store._write() as conn:
        held = conn.execute(
            select(personal_keys.c.public).where(personal_keys.c.key_id == key.key_id)
        ).first()
        if held is not None:
            # Registered before (perhaps retired): current again, from now.
            conn.execute(
                personal_keys.update()
                .where(personal_keys.c.key_id == key.key_id)
                .values(added_at=utc_now(), retired_at=None)
            )
        else:
            conn.execute(
                personal_keys.insert().values(
                    key_id=key.key_id, public=key.public, added_at=utc_now()
                )
            )
    return seal_clear(store, key)


def retire_key(store: CentralStore, key_id: str) -> None:
    """The key no longer seals anything new; records sealed to it still open with its private
    half (keep it until retention has purged them)."""
    with store._write() as conn:
        done = conn.execute(
            personal_keys.update()
            .where(personal_keys.c.key_id == key_id, personal_keys.c.retired_at.is_(None))
            .values(retired_at=utc_now())
        )
    if not done.rowcount:
        raise PersonalError(f"no registered, unretired personal-data key {key_id}")


def keys(store: CentralStore) -> list[dict[str, Any]]:
    """Every registered key with how many sealed parts each still opens, newest first."""
    with store._read() as conn:
        rows = [
            dict(found._mapping)
            for found in conn.execute(
                select(personal_keys).order_by(personal_keys.c.added_at.desc())
            )
        ]
        counts: dict[str, int] = {}
        for part in conn.execute(select(personal_sealed.c.key_id)):
            counts[part.key_id] = counts.get(part.key_id, 0) + 1
    for entry in rows:
        entry["sealed_parts"] = counts.pop(entry["key_id"], 0)
    # Parts sealed by terminals to a key never registered here (registering is optional for
    # keys the fleet received through the signed configuration).
    rows.extend(
        {"key_id": key_id, "public": None, "added_at": None, "retired_at": None,
         "sealed_parts": n}
        for key_id, n in sorted(counts.items())
    )  # fmt: skip
    return rows


# -- rewriting what was stored in the clear, and retention ---------------------------------------


@contextmanager
def _scrubbing(store: CentralStore) -> Iterator[Connection]:
    """A write transaction whose freed bytes are overwritten (SQLite)."""
    with store._write() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        yield conn


def _fold_wal(store: CentralStore) -> None:
    """Copy SQLite's WAL into the file and truncate it, so the log's older frames (which still
    hold what was just overwritten) leave the disk. It waits for writers, so only after a
    change, not at every hourly look."""
    if store.dialect != "sqlite":
        return
    with store.engine.connect() as plain:
        # On the driver's connection: SQLAlchemy would open a transaction around it first.
        raw = plain.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _without_personal(row: Any) -> tuple[dict[str, Any], Any, str]:
    """(payload without its clear personal part, that part or None, the new fingerprint)."""
    payload = json.loads(row.payload)
    fields = payload.pop("personal", None)
    fingerprint = item_fingerprint(
        row.service, int(row.seq), payload, row.created_at, SEALED_ON_ARRIVAL
    )
    return payload, fields, fingerprint


def seal_clear(store: CentralStore, key: PersonalKey) -> int:
    """Seal to *key* every personal part stored in the clear before schema 6, and rewrite those
    payloads without it (their fingerprints too: they hashed the clear values)."""
    sealed_count = 0
    while True:
        with _scrubbing(store) as conn:
            rows = conn.execute(
                select(
                    transactions.c.id, transactions.c.kiosk_id, transactions.c.uuid,
                    transactions.c.seq, transactions.c.service, transactions.c.payload,
                    transactions.c.created_at, transactions.c.received_at,
                )
                .where(transactions.c.personal == "clear")
                .limit(CHUNK)
            ).all()  # fmt: skip
            for row in rows:
                payload, fields, fingerprint = _without_personal(row)
                if fields is None:  # "personal" was only nested: nothing to seal
                    conn.execute(
                        transactions.update()
                        .where(transactions.c.id == row.id)
                        .values(personal=None)
                    )
                    continue
                part = seal(
                    key, fields if isinstance(fields, dict) else {"value": fields}, row.uuid
                )
                conn.execute(
                    personal_sealed.insert().values(
                        kiosk_id=row.kiosk_id, uuid=row.uuid, key_id=part.key_id,
                        sealed=part.raw(), sealed_by="platform", received_at=row.received_at,
                    )
                )  # fmt: skip
                conn.execute(
                    transactions.update()
                    .where(transactions.c.id == row.id)
                    .values(
                        payload=canonical_text(payload), payload_sha256=fingerprint,
                        personal="sealed",
                    )
                )  # fmt: skip
                sealed_count += 1
        if len(rows) < CHUNK:
            if sealed_count:
                _fold_wal(store)
            return sealed_count


def count_clear(store: CentralStore) -> int:
    from sqlalchemy import func

    with store._read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(transactions)
                .where(transactions.c.personal == "clear")
            ).scalar_one()
        )


def purge(store: CentralStore, days: int, *, now: datetime | None = None) -> int:
    """Remove the personal parts received more than *days* ago (sealed, or still in the clear
    from before sealing); their transactions stay, marked 'purged'. Returns how many went."""
    if days < 1:
        raise PersonalError("the retention period is at least 1 day")
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="microseconds")
    purged = 0
    while True:
        with _scrubbing(store) as conn:
            due = conn.execute(
                select(personal_sealed.c.kiosk_id, personal_sealed.c.uuid)
                .where(personal_sealed.c.received_at < cutoff)
                .limit(CHUNK)
            ).all()
            pairs = [(str(row.kiosk_id), str(row.uuid)) for row in due]
            if pairs:
                match = or_(
                    *(
                        and_(personal_sealed.c.kiosk_id == k, personal_sealed.c.uuid == u)
                        for k, u in pairs
                    )
                )
                conn.execute(personal_sealed.delete().where(match))
                conn.execute(
                    transactions.update()
                    .where(
                        or_(
                            *(
                                and_(transactions.c.kiosk_id == k, transactions.c.uuid == u)
                                for k, u in pairs
                            )
                        )
                    )
                    .values(personal="purged")
                )
            clear = conn.execute(
                select(
                    transactions.c.id, transactions.c.seq, transactions.c.service,
                    transactions.c.payload, transactions.c.created_at,
                )
                .where(transactions.c.personal == "clear", transactions.c.received_at < cutoff)
                .limit(CHUNK)
            ).all()  # fmt: skip
            for row in clear:
                payload, fields, fingerprint = _without_personal(row)
                change = (
                    {"payload": canonical_text(payload), "payload_sha256": fingerprint,
                     "personal": "purged"}
                    if fields is not None
                    else {"personal": None}  # "personal" was only nested: nothing personal
                )  # fmt: skip
                conn.execute(
                    transactions.update().where(transactions.c.id == row.id).values(**change)
                )
        purged += len(pairs) + len(clear)
        if len(pairs) < CHUNK and len(clear) < CHUNK:
            if purged:
                _fold_wal(store)
            return purged
