"""A bounded outbox: delivered rows leave after the retention period and never count against the
size limit; verdicts land in one transaction; a full disk refuses clearly and loses nothing."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.personal import PersonalKey, open_sealed
from offline.outbox import OutboxError, OutboxFull, OutboxStore

PERSON = {"name": "张秀英", "id_number": "11010519491231002X"}
T0 = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
DAY = timedelta(days=1)
PAGE = 4096
FILLER = "x" * 2000  # about half a page per transaction


SEAL_TO = PersonalKey.of(X25519PrivateKey.generate().public_key())  # the platform's key


def deliver_all(store: OutboxStore, now: datetime | None = None) -> None:
    batch = store.take_batch(1000, seal_to=SEAL_TO)
    store.acknowledge([item.seq for item in batch], now=now)


def empty_size(folder: Path) -> int:
    probe = OutboxStore(folder / "probe" / "kiosk.db")
    size = probe.status().size_bytes
    probe.close()
    return size


def test_acknowledged_rows_go_after_retention_and_the_sequence_goes_on(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db", retention=timedelta(days=7))
    delivered = [store.record("s", {"n": n}, personal=PERSON, now=T0) for n in range(3)]
    deliver_all(store, now=T0)
    dead = store.record("s", {"n": "refused"}, now=T0)
    store.take_batch(10)
    store.bury([(dead.seq, "rejected", "bad")], now=T0)
    waiting = store.record("s", {"n": "waiting"}, now=T0)

    store.purge_personal(now=T0 + 6 * DAY)
    assert store.status().by_state == {"pending": 1, "sent": 0, "acknowledged": 3, "dead": 1}
    store.purge_personal(now=T0 + 7 * DAY + timedelta(seconds=1))
    assert [store.transaction(r.uuid) for r in delivered] == [None, None, None]
    assert store.status().by_state == {"pending": 1, "sent": 0, "acknowledged": 0, "dead": 1}
    assert store.dead_letters()[0].seq == dead.seq  # technicians still see what was refused
    assert store.transaction(waiting.uuid) is not None  # its uuid is still needed: kept
    deliver_all(store, now=T0 + 8 * DAY)
    store.purge_personal(now=T0 + 16 * DAY)
    assert store.status().by_state["acknowledged"] == 0

    # The highest sequence ever handed out is never handed out again, not even once every
    # row holding it has gone, nor after a restart: the platform orders by it.
    store.close()
    again = OutboxStore(tmp_path / "kiosk.db")
    assert again.record("s", {}).seq == waiting.seq + 1
    again.close()


def test_delivered_rows_never_fill_the_outbox(tmp_path: Path) -> None:
    limit = empty_size(tmp_path) + 40 * PAGE
    store = OutboxStore(tmp_path / "kiosk.db", max_bytes=limit)
    for _ in range(20):  # ten times what the limit holds, delivered as it goes
        for _ in range(30):
            store.record("s", {"filler": FILLER})
        deliver_all(store)
    st = store.status()
    assert st.by_state["acknowledged"] > 0  # kept while there is room (retention)...
    assert st.size_bytes <= limit + 8 * PAGE  # ...and given up when there is not
    assert st.capacity == "ok" and st.waiting_bytes == 0
    store.close()


def test_the_guard_counts_what_waits_and_warns_early(tmp_path: Path) -> None:
    limit = empty_size(tmp_path) + 40 * PAGE
    store = OutboxStore(tmp_path / "kiosk.db", max_bytes=limit)
    assert (store.status().capacity, store.status().waiting_bytes) == ("ok", 0)
    states = []
    with pytest.raises(OutboxFull, match="outbox is full"):
        for _ in range(1000):
            store.record("s", {"filler": FILLER})
            states.append(store.status().capacity)
    assert states[0] == "ok" and "warning" in states  # warned before refusing
    st = store.status()
    assert st.capacity == "full" and st.capacity_warning
    assert st.waiting_bytes >= 0.8 * limit and st.total == len(states)
    deliver_all(store)  # delivery makes room again at once
    assert store.status().capacity == "ok"
    store.record("s", {"filler": FILLER})
    store.close()


def traced(store: OutboxStore) -> list[str]:
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    return statements


@pytest.mark.parametrize("verdict", ["acknowledge", "release"])
def test_a_batch_verdict_is_one_transaction(tmp_path: Path, verdict: str) -> None:
    store = OutboxStore(tmp_path / "kiosk.db")
    for n in range(50):
        store.record("s", {"n": n})
    seqs = [item.seq for item in store.take_batch(50)]
    statements = traced(store)
    getattr(store, verdict)(seqs)
    begins = [s for s in statements if s.startswith("BEGIN")]
    commits = [s for s in statements if s == "COMMIT"]
    assert (len(begins), len(commits)) == (1, 1), statements[:5]
    state = "acknowledged" if verdict == "acknowledge" else "pending"
    assert store.status().by_state[state] == 50
    store.close()


def refusals_lose_nothing(store: OutboxStore, folder: Path, make_room: Callable[[], None]) -> None:
    """Record until the disk refuses: the refusal is OutboxFull with a clear word and the
    technician's status says full; once there is room again, everything recorded before the
    refusal is there, in order, its sealed data intact."""
    kept = []
    with pytest.raises(OutboxFull) as refused:
        for n in range(100_000):
            kept.append(store.record("s", {"n": n, "filler": FILLER}, personal=PERSON).uuid)
    assert "nothing recorded" in str(refused.value) and "disk" in str(refused.value)
    assert isinstance(refused.value, OutboxError)  # what the visit maps to its apology
    assert kept and store.status().total == len(kept)
    assert store.status().capacity == "full"
    store.close()
    make_room()
    again = OutboxStore(folder / "kiosk.db")
    private = X25519PrivateKey.generate()
    batch = again.take_batch(len(kept) + 10, seal_to=PersonalKey.of(private.public_key()))
    assert [item.uuid for item in batch] == kept
    assert all(
        item.sealed is not None and open_sealed(private, item.sealed, item.uuid) == PERSON
        for item in batch
    )
    again.close()


def test_a_full_database_refuses_clearly_and_loses_nothing(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db")
    pages = store.status().size_bytes // PAGE
    store._conn.execute(f"PRAGMA max_page_count = {pages + 30}")  # SQLite's own "disk full"
    refusals_lose_nothing(store, tmp_path, lambda: None)  # the limit ends with the connection


@contextlib.contextmanager
def small_filesystem(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_refuses_clearly_and_loses_nothing(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "disk", "1m") as disk:
        store = OutboxStore(disk / "kiosk.db")
        ballast = disk / "ballast"  # something else filled the disk, leaving ~200 KB
        ballast.write_bytes(b"\0" * (1024 * 1024 - 200 * 1024 - sum(
            f.stat().st_size for f in disk.rglob("*") if f.is_file())))  # fmt: skip
        refusals_lose_nothing(store, disk, ballast.unlink)  # the technician frees space
