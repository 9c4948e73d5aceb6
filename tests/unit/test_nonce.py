"""AES-GCM never sees the same nonce twice under one key: a repeat would reveal the XOR of two
residents' plaintexts and let anyone forge sealed values. Both through the sealer and through the
outbox as it stores them; and the check itself is shown to catch a constant nonce."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from offline import sealing
from offline.outbox import OutboxStore
from offline.sealing import FORMAT_V1, KEY_BYTES, NONCE_BYTES, Sealer

PERSON = {"name": "张秀英", "id_number": "11010519491231002X"}


def nonce_of(blob: bytes) -> bytes:
    assert blob[:1] == FORMAT_V1
    return blob[1 : 1 + NONCE_BYTES]


def repeats(nonces: list[bytes]) -> int:
    return sum(n - 1 for n in Counter(nonces).values())


def sealed_nonces(count: int) -> list[bytes]:
    sealer = Sealer(b"\x07" * KEY_BYTES)
    # The same plaintext under the same associated data: only the nonce can make them differ.
    return [nonce_of(sealer.seal(PERSON, "same-uuid")) for _ in range(count)]


def stored_nonces(folder: Path, count: int) -> list[bytes]:
    store = OutboxStore(folder / "kiosk.db")
    for _ in range(count):
        store.record("feedback", {}, personal=PERSON)
    store.close()
    conn = sqlite3.connect(folder / "kiosk.db")
    blobs = [row[0] for row in conn.execute("SELECT personal FROM transactions")]
    conn.close()
    return [nonce_of(b) for b in blobs]


def test_sealing_the_same_value_never_repeats_a_nonce() -> None:
    nonces = sealed_nonces(20_000)
    assert len(nonces) == 20_000 and repeats(nonces) == 0


def test_the_outbox_stores_a_fresh_nonce_with_every_value(tmp_path: Path) -> None:
    nonces = stored_nonces(tmp_path, 500)
    assert len(nonces) == 500 and repeats(nonces) == 0


def test_a_constant_nonce_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a broken nonce source would look like; both checks above must see it.
    monkeypatch.setattr(sealing, "new_nonce", lambda: b"\x00" * NONCE_BYTES)
    assert repeats(sealed_nonces(100)) == 99
    assert repeats(stored_nonces(tmp_path, 20)) == 19
