"""A purge that purges: once personal data is purged, nothing on disk opens with the outbox key.

The files are read as an attacker holding the data directory would (the database, its WAL and
every free page or cell in them), and the key from keys/outbox.key is tried on every run of bytes
shaped like a sealed value. The plaintext must appear nowhere either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from offline.outbox import OutboxStore
from offline.sealing import FORMAT_V1, NONCE_BYTES, Sealer, SealingError

PERSON = {"name": "张秀英", "id_number": "11010519491231002X", "phone": "13800000000"}
T0 = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
AFTER_RETENTION = T0 + timedelta(days=7, seconds=1)
TAG_BYTES = 16


def on_disk(folder: Path) -> bytes:
    # Every file SQLite keeps for the database: main file (free pages included), WAL, shm.
    return b"".join(f.read_bytes() for f in sorted(folder.glob("kiosk.db*")))


def sealed_length(personal: Mapping[str, object]) -> int:
    plain = json.dumps(personal, sort_keys=True, ensure_ascii=False).encode()
    return len(FORMAT_V1) + NONCE_BYTES + len(plain) + TAG_BYTES


def openable(raw: bytes, key: bytes, uuids: Iterable[str], length: int) -> list[str]:
    """The uuids whose sealed value is still somewhere in *raw*: every offset that starts
    with the format byte is tried as a sealed value of *length* bytes, for every uuid."""
    sealer, found = Sealer(key), []
    for uid in uuids:
        start = raw.find(FORMAT_V1)
        while start != -1:
            try:
                sealer.open(raw[start : start + length], uid)
                found.append(uid)
                break
            except SealingError:
                start = raw.find(FORMAT_V1, start + 1)
    return found


def plaintext_anywhere(raw: bytes) -> list[str]:
    return [
        value
        for value in PERSON.values()
        if value.encode() in raw or value.encode("gb18030") in raw
    ]


def settle_and_purge(store: OutboxStore, count: int) -> list[str]:
    recs = [store.record("certificate", {"n": n}, personal=PERSON, now=T0) for n in range(count)]
    store.take_batch(count)
    store.acknowledge([r.seq for r in recs[:-1]], now=T0)
    store.bury([(recs[-1].seq, "rejected", "bad")], now=T0)  # dead letters are purged too
    return [r.uuid for r in recs]


def test_the_probe_finds_sealed_values_before_the_purge(tmp_path: Path) -> None:
    # Without this, a probe that never finds anything would pass the test below.
    store = OutboxStore(tmp_path / "kiosk.db", retention=timedelta(days=7))
    uuids = settle_and_purge(store, 5)
    key = (tmp_path / "keys" / "outbox.key").read_bytes()
    assert sorted(openable(on_disk(tmp_path), key, uuids, sealed_length(PERSON))) == sorted(uuids)
    store.close()


def test_after_a_purge_nothing_on_disk_opens_with_the_key(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db", retention=timedelta(days=7))
    uuids = settle_and_purge(store, 5)
    keep = store.record("certificate", {"n": "waiting"}, personal=PERSON, now=T0)
    assert store.purge_personal(now=AFTER_RETENTION) == 5
    key = (tmp_path / "keys" / "outbox.key").read_bytes()
    length = sealed_length(PERSON)

    raw = on_disk(tmp_path)  # while the terminal runs
    assert openable(raw, key, uuids, length) == []
    assert openable(raw, key, [keep.uuid], length) == [keep.uuid]  # not yet delivered: kept
    assert plaintext_anywhere(raw) == []

    store.close()  # and once SQLite has folded its WAL back into the file
    raw = on_disk(tmp_path)
    assert openable(raw, key, uuids, length) == []
    assert plaintext_anywhere(raw) == []


def test_rows_dropped_after_retention_leave_nothing_behind(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db", retention=timedelta(days=7))
    uuids = settle_and_purge(store, 40)  # enough to free whole pages, not only cells
    store.purge_personal(now=AFTER_RETENTION)
    store.purge_personal(now=AFTER_RETENTION + timedelta(days=8))  # the rows themselves go
    key = (tmp_path / "keys" / "outbox.key").read_bytes()
    raw = on_disk(tmp_path)
    assert openable(raw, key, uuids, sealed_length(PERSON)) == []
    assert plaintext_anywhere(raw) == []
    store.close()
