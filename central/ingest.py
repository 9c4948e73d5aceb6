"""Exactly-once ingest of a terminal's batch: each item checked, repeats within the batch sorted
out, new uuids inserted, and uuids already held answered as duplicates or conflicts.

A sealed personal part goes to its own table (``personal_sealed``), as it came: the API server
cannot open it. A terminal from before sealing sends its personal part in the clear, as
``payload.personal``: that is sealed here, on arrival, to the platform's current personal-data
public key and never stored as it came; with no key registered the item is refused."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from central import certificate_register as certificates
from central.tables import personal_sealed, transactions, utc_now
from contracts.canonical import canonical, canonical_text
from contracts.personal import PersonalKey, PersonalSealError, seal
from contracts.wire import (
    MAX_PAYLOAD_BYTES,
    MAX_PAYLOAD_DEPTH,
    BatchItem,
    ItemResult,
    ItemStatus,
    item_fingerprint,
)

if TYPE_CHECKING:
    from central.store import CentralStore


# What an item sealed here on arrival is fingerprinted with in place of its ciphertext (which a
# resend would not repeat: a new ephemeral key each time). Never the personal values themselves.
SEALED_ON_ARRIVAL = {"sealed_by": "platform"}


@dataclass(frozen=True)
class _Prepared:
    item: BatchItem
    uuid: str
    payload_json: str
    fingerprint: str
    key_id: str | None = None  # with a sealed personal part: the key that opens it
    sealed: bytes | None = None
    sealed_by: str | None = None  # terminal, or platform (sealed here on arrival)


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


def _prepare(item: BatchItem, platform_key: PersonalKey | None) -> _Prepared | str:
    """The item ready to store, or the reason it is refused (never echoing the item's content)."""
    try:
        datetime.fromisoformat(item.created_at)
    except ValueError:
        return "created_at is not an ISO 8601 date and time"
    if _depth_exceeds(item.payload, MAX_PAYLOAD_DEPTH):
        return f"payload is nested deeper than {MAX_PAYLOAD_DEPTH} levels"
    try:
        raw = canonical(item.payload)  # canonical_text's bytes, by orjson where it agrees
        payload_json, size = raw.decode("utf-8"), len(raw)
    except ValueError:  # NaN/Infinity (UnicodeEncodeError is a ValueError too: lone surrogates)
        return "payload holds a value JSON cannot carry (NaN, Infinity or a lone surrogate)"
    if size > MAX_PAYLOAD_BYTES:
        return f"payload is {size} bytes of JSON, more than {MAX_PAYLOAD_BYTES}"
    uuid = item.uuid.lower()
    if certificates.is_certificate(item.payload) and (
        refused := certificates.refusal(item.payload)
    ):
        return refused
    if "personal" in item.payload:
        return _sealed_on_arrival(item, uuid, platform_key)
    if item.sealed is not None:
        try:
            raw = item.sealed.raw()
        except PersonalSealError as exc:
            return str(exc)
        sealed = item.sealed.model_dump()
        fingerprint = item_fingerprint(
            item.service, item.seq, item.payload, item.created_at, sealed
        )
        return _Prepared(item, uuid, payload_json, fingerprint, item.sealed.key_id, raw, "terminal")
    fingerprint = item_fingerprint(item.service, item.seq, item.payload, item.created_at)
    return _Prepared(item, uuid, payload_json, fingerprint)


def _sealed_on_arrival(
    item: BatchItem, uuid: str, platform_key: PersonalKey | None
) -> _Prepared | str:
    """A terminal from before sealing: its clear payload.personal is sealed now and only the
    rest of the payload is stored; the clear values never reach the database."""
    if item.sealed is not None:
        return "personal fields both sealed and in the clear (payload.personal)"
    if platform_key is None:
        return (
            "personal fields in the clear (payload.personal) and no personal-data key on the "
            "platform to seal them to: register one (kiosk-central personal register), or "
            "upgrade this terminal so it seals them itself"
        )
    rest = {name: value for name, value in item.payload.items() if name != "personal"}
    fields = item.payload["personal"]
    try:
        sealed = seal(platform_key, fields if isinstance(fields, dict) else {"value": fields}, uuid)
    except PersonalSealError as exc:
        return str(exc)
    fingerprint = item_fingerprint(item.service, item.seq, rest, item.created_at, SEALED_ON_ARRIVAL)
    return _Prepared(
        item, uuid, canonical_text(rest), fingerprint, sealed.key_id, sealed.raw(), "platform"
    )


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def ingest_batch(
    store: CentralStore, kiosk_id: str, items: Sequence[BatchItem]
) -> list[ItemResult]:
    """CentralStore.ingest(): one batch in ONE transaction, the outcomes in the items' order."""
    outcomes: list[ItemResult | None] = [None] * len(items)
    first_seen: dict[str, tuple[int, _Prepared | str]] = {}  # uuid -> (index, prepared/reason)
    copies: dict[int, int] = {}  # index of a repeat -> index of its first occurrence
    refused: set[str] = set()  # uuids repeated in the batch with different content
    # Looked up only when a terminal from before sealing sends a personal part in the clear.
    platform_key = (
        store.current_personal_key() if any("personal" in i.payload for i in items) else None
    )
    for index, item in enumerate(items):
        uuid = item.uuid.lower()
        result = _prepare(item, platform_key)
        if isinstance(result, str):
            outcomes[index] = ItemResult(uuid=uuid, status="rejected", reason=result)
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

    stored = _insert_absent(store, kiosk_id, prepared) if prepared else {}

    for index, item in enumerate(items):
        uuid = item.uuid.lower()
        if uuid in refused:
            outcomes[index] = ItemResult(
                uuid=uuid,
                status="rejected",
                reason="uuid appears more than once in this batch, with different content",
            )
        elif index in copies:
            original = outcomes[copies[index]]
            assert original is not None
            status: ItemStatus = "duplicate" if original.status == "accepted" else original.status
            outcomes[index] = ItemResult(uuid=uuid, status=status, reason=original.reason)
        elif uuid in stored:
            outcomes[index] = stored[uuid]
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


# PostgreSQL: the batch as one array per column, one statement whatever its size. A multi-row
# VALUES list (SQLAlchemy's insertmanyvalues) is a new, long statement for each batch size,
# which psycopg parses again in Python every time (its cache keeps only short statements): that
# parsing was a quarter of a batch's time in the API worker.
_PG_INSERT = (
    "INSERT INTO transactions (kiosk_id, received_at, uuid, seq, service, payload, "
    "payload_sha256, created_at, personal) "
    "SELECT %(kiosk_id)s, %(received_at)s, rows.* FROM unnest(%(uuid)s::text[], "
    "%(seq)s::bigint[], %(service)s::text[], %(payload)s::text[], %(payload_sha256)s::text[], "
    "%(created_at)s::text[], %(personal)s::text[]) AS rows "
    "ON CONFLICT (kiosk_id, uuid) DO NOTHING RETURNING uuid"
)
_ARRAYS = ("uuid", "seq", "service", "payload", "payload_sha256", "created_at", "personal")


def _insert_transactions(
    store: CentralStore, conn: Connection, rows: list[dict[str, Any]]
) -> set[str]:
    """Insert the rows whose (kiosk_id, uuid) is not held yet, in order; the uuids inserted."""
    inserted: set[str] = set()
    if store.dialect == "postgresql" and rows:
        params: dict[str, Any] = {name: [row[name] for row in rows] for name in _ARRAYS}
        params.update(kiosk_id=rows[0]["kiosk_id"], received_at=rows[0]["received_at"])
        inserted.update(str(uuid) for (uuid,) in conn.exec_driver_sql(_PG_INSERT, params))
        return inserted
    insert = store._insert(transactions).on_conflict_do_nothing(index_elements=["kiosk_id", "uuid"])
    for chunk_start in range(0, len(rows), 500):
        chunk = rows[chunk_start : chunk_start + 500]
        result = conn.execute(insert.returning(transactions.c.uuid), chunk)
        inserted.update(str(uuid) for uuid in result.scalars())
    return inserted


def _insert_absent(
    store: CentralStore, kiosk_id: str, prepared: dict[str, _Prepared]
) -> dict[str, ItemResult]:
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
            "personal": "sealed" if prepared[uuid].sealed is not None else None,
        }
        for uuid in ordered
    ]
    outcomes: dict[str, ItemResult] = {}
    with store._write() as conn:
        inserted = _insert_transactions(store, conn, rows)
        # Only beside a row inserted now: a duplicate's sealed part is the one already held.
        sealed_rows = [
            {
                "kiosk_id": kiosk_id,
                "uuid": uuid,
                "key_id": prepared[uuid].key_id,
                "sealed": prepared[uuid].sealed,
                "sealed_by": prepared[uuid].sealed_by,
                "received_at": received_at,
            }
            for uuid in ordered
            if uuid in inserted and prepared[uuid].sealed is not None
        ]
        for chunk_start in range(0, len(sealed_rows), 500):
            conn.execute(personal_sealed.insert(), sealed_rows[chunk_start : chunk_start + 500])
        # Kept for the public verification page (central/certificate_register.py).
        for uuid in ordered:
            if uuid in inserted and certificates.is_certificate(prepared[uuid].item.payload):
                certificates.keep(
                    conn, kiosk_id, uuid, prepared[uuid].item.payload,
                    prepared[uuid].item.created_at, received_at,
                )  # fmt: skip
        held = [uuid for uuid in ordered if uuid not in inserted]
        fingerprints: dict[str, str] = {}
        for part in _chunks(held):
            query = select(transactions.c.uuid, transactions.c.payload_sha256).where(
                transactions.c.kiosk_id == kiosk_id, transactions.c.uuid.in_(part)
            )
            fingerprints.update({str(u): str(h) for u, h in conn.execute(query)})
    for uuid in ordered:
        if uuid in inserted:
            outcomes[uuid] = ItemResult(uuid=uuid, status="accepted")
        elif fingerprints.get(uuid) == prepared[uuid].fingerprint:
            outcomes[uuid] = ItemResult(uuid=uuid, status="duplicate")
        else:
            outcomes[uuid] = ItemResult(
                uuid=uuid,
                status="conflict",
                reason="this uuid is already held with different content",
            )
    return outcomes
