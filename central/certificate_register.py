"""Printed certificates and their verification: the terminals' certificate records, kept by
reference as they arrive (central/ingest.py), and the check the public verification page and
endpoint make (central/verify_page.py).

A reference is stored, not signed: the terminal mints 120 random bits and records them through
the outbox before the certificate prints, so the platform knows every reference on paper without
a signing key anywhere (a key on every terminal is a key to forge with; one on the platform would
have it sign at query time a kind and a holder it is never told). A forged reference is one the
platform has no record of; an altered one fails its check digits first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from central.tables import certificates, transactions
from contracts.certificates import normalise_reference
from contracts.records import CertificateRecord

RECORD = "certificate"


@dataclass(frozen=True)
class Certificate:
    """What the verification page says of a valid reference: nothing more than the paper."""

    reference: str
    kind: str
    title_zh: str
    title_en: str
    holder_name: str
    holder_id: str
    issued_at: str
    kiosk_id: str


def is_certificate(payload: dict[str, Any]) -> bool:
    return payload.get("record") == RECORD


def refusal(payload: dict[str, Any]) -> str | None:
    """Why a certificate record cannot be kept (None: it can): checked at ingest, so the
    verification table never holds a reference the page would refuse, nor an unmasked holder.
    The reason names fields, never their values."""
    try:
        record = CertificateRecord.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "payload"
        return f"a certificate record that does not fit its schema: {where}: {first['msg']}"
    if normalise_reference(record.reference) != record.reference:
        return "a certificate record whose reference fails its check digits"
    return None


def keep(
    conn: Connection, kiosk_id: str, uuid: str, payload: dict[str, Any], issued_at: str,
    received_at: str,
) -> None:  # fmt: skip
    """Keep one certificate record (already checked by refusal()) for verification. The first
    record of a reference wins: a second terminal sending it again changes nothing."""
    record = CertificateRecord.model_validate(payload)
    row = {
        "reference": record.reference, "kiosk_id": kiosk_id, "uuid": uuid, "kind": record.kind,
        "title_zh": record.title_zh, "title_en": record.title_en,
        "holder_name": record.holder_name, "holder_id": record.holder_id,
        "issued_at": issued_at, "received_at": received_at,
    }  # fmt: skip
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(certificates).values(**row).on_conflict_do_nothing())


def backfill(conn: Connection) -> None:
    """Schema 7: certificate records received before the platform kept them for verification
    (a terminal newer than its platform) are kept now."""
    query = select(
        transactions.c.kiosk_id, transactions.c.uuid, transactions.c.payload,
        transactions.c.created_at, transactions.c.received_at,
    ).where(transactions.c.payload.like('%"record":"certificate"%'))  # fmt: skip
    for row in conn.execute(query).all():
        payload = json.loads(row.payload)
        if is_certificate(payload) and refusal(payload) is None:
            keep(conn, row.kiosk_id, row.uuid, payload, row.created_at, row.received_at)


def look_up(conn: Connection, text: str) -> Certificate | str:
    """The certificate *text* names, or why it names none: ``malformed`` (not a reference, or
    its check digits fail: mistyped or altered) or ``unknown`` (no certificate has it: forged)."""
    reference = normalise_reference(text)
    if reference is None:
        return "malformed"
    row = conn.execute(select(certificates).where(certificates.c.reference == reference)).first()
    if row is None:
        return "unknown"
    return Certificate(
        reference=row.reference, kind=row.kind, title_zh=row.title_zh, title_en=row.title_en,
        holder_name=row.holder_name, holder_id=row.holder_id, issued_at=row.issued_at,
        kiosk_id=row.kiosk_id,
    )  # fmt: skip
