"""Delivery to a real platform process: exactly once, in order, through a misbehaving network,
with the platform down and back, and with the terminal's process killed at random points."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts.personal import PersonalKey
from offline.outbox import OutboxStore
from offline.sync import Link, RefusedError, SyncClient, SyncWorker, TransientError
from tests.fault_proxy import FaultProxy
from tests.platform_process import Platform, platform_process, start_server, stop_server
from tests.processes import run_then_kill
from tests.waiting import wait_for

RIG = Path(__file__).with_name("sync_rig.py")
# The platform's personal-data key, as a signed configuration brings it to terminals.
PLATFORM_KEY = PersonalKey.of(X25519PrivateKey.generate().public_key())


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with platform_process(tmp_path / "central") as p:
        yield p


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OutboxStore]:
    st = OutboxStore(tmp_path / "terminal" / "kiosk.db")
    yield st
    st.close()


def _uuids_in(store_path: Path) -> list[str]:
    conn = sqlite3.connect(store_path)
    rows = conn.execute("SELECT uuid FROM transactions ORDER BY seq").fetchall()
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    return [r[0] for r in rows]


def _assert_exactly_once_in_order(platform: Platform, expected: list[str]) -> None:
    received = platform.export()
    uuids = [r["uuid"] for r in received]
    assert len(uuids) == len(set(uuids)), "a transaction arrived twice"
    assert uuids == expected  # every one, once, in the terminal's order
    seqs = [r["seq"] for r in received]
    assert seqs == sorted(seqs)


def test_push_delivers_in_order_and_a_resend_is_harmless(
    platform: Platform, store: OutboxStore
) -> None:
    recs = [store.record("queue_ticket", {"n": n}, personal={"name": "张秀英"}) for n in range(7)]
    client = SyncClient(store, platform.url, platform.kiosk_id, platform.token, batch_size=3,
                        personal_key=lambda: PLATFORM_KEY)  # fmt: skip
    result = client.push()
    assert (result.sent, result.acknowledged, result.requests) == (7, 7, 3)
    assert store.status().by_state["acknowledged"] == 7
    received = platform.export()
    assert [r["uuid"] for r in received] == [r.uuid for r in recs]
    assert received[0]["payload"] == {"n": 0} and received[0]["personal"] == "sealed"

    # The same rows once more (as after a crash before the acknowledgement was written).
    conn = sqlite3.connect(store.path)
    conn.execute("UPDATE outbox SET state = 'pending'")
    conn.commit()
    conn.close()
    again = client.push()
    assert again.counts == {"duplicate": 7} and again.acknowledged == 7
    _assert_exactly_once_in_order(platform, [r.uuid for r in recs])


def test_conflict_goes_to_the_dead_letters_and_does_not_block(
    platform: Platform, tmp_path: Path
) -> None:
    first = OutboxStore(tmp_path / "a" / "kiosk.db")
    rec = first.record("s", {"v": 1})
    SyncClient(first, platform.url, platform.kiosk_id, platform.token).push()
    # A second database claiming the same uuid with another payload (a restored old backup).
    conn = sqlite3.connect(first.path)
    conn.execute("UPDATE transactions SET payload = '{\"v\":2}'")
    conn.execute("UPDATE outbox SET state = 'pending'")
    conn.commit()
    conn.close()
    later = first.record("s", {"v": 3})
    result = SyncClient(first, platform.url, platform.kiosk_id, platform.token).push()
    assert result.counts == {"conflict": 1, "accepted": 1}
    (dead,) = first.dead_letters()
    assert dead.uuid == rec.uuid and dead.status == "conflict"
    stored = {r["uuid"]: r["payload"] for r in platform.export()}
    assert stored == {rec.uuid: {"v": 1}, later.uuid: {"v": 3}}  # never overwritten
    first.close()


def test_wrong_token_is_refused_and_nothing_changes(platform: Platform, store: OutboxStore) -> None:
    store.record("s", {})
    client = SyncClient(store, platform.url, platform.kiosk_id, "not-the-token")
    with pytest.raises(RefusedError, match="401"):
        client.push()
    assert store.status().by_state["pending"] == 1
    other = SyncClient(store, platform.url, "someone-else", platform.token)
    with pytest.raises(RefusedError):
        other.push()
    assert platform.export() == []


def test_platform_down_then_up_everything_arrives_within_one_backoff(
    tmp_path: Path, store: OutboxStore
) -> None:
    with platform_process(tmp_path / "central") as platform:
        url, kiosk_id, token, db_url = (
            platform.url,
            platform.kiosk_id,
            platform.token,
            platform.db_url,
        )
    port = int(url.rsplit(":", 1)[1])
    client = SyncClient(store, url, kiosk_id, token, timeout=2)
    worker = SyncWorker(client, store, base=0.2, cap=1.0, idle=0.5)
    worker.start()
    try:
        recs = [store.record("s", {"n": n}) for n in range(20)]  # visits go on while offline
        worker.wake()
        wait_for(lambda: worker.status.link is Link.OFFLINE and worker.status.waiting == 20)
        server = start_server(db_url, port)
        try:
            assert server.stdout is not None
            assert server.stdout.readline().startswith("listening on")
            started = time.monotonic()
            wait_for(lambda: worker.status.link is Link.ONLINE and worker.status.waiting == 0)
            assert time.monotonic() - started <= 1.0 + 0.5  # cap, plus the time to send
            restored = Platform(url, db_url, kiosk_id, token, server)
            _assert_exactly_once_in_order(restored, [r.uuid for r in recs])
        finally:
            stop_server(server)
    finally:
        worker.stop()


def test_network_faults_lose_nothing_and_duplicate_nothing(
    platform: Platform, store: OutboxStore
) -> None:
    upstream = ("127.0.0.1", int(platform.url.rsplit(":", 1)[1]))
    mix = {"pass": 0.3, "drop": 0.15, "reset": 0.2, "delay": 0.15, "cut": 0.2}
    with FaultProxy(upstream, mix, seed=7, delay=0.2) as proxy:
        client = SyncClient(store, proxy.url, platform.kiosk_id, platform.token,
                            batch_size=7, timeout=2)  # fmt: skip
        expected: list[str] = []
        failures = 0
        for round_no in range(60):
            expected += [store.record("s", {"r": round_no, "i": i}).uuid for i in range(5)]
            try:
                client.push(max_batches=2)
            except TransientError:
                failures += 1
        proxy.set_mix({"pass": 1.0})
        client.push()
    assert store.status().waiting == 0 and store.status().by_state["dead"] == 0
    assert failures > 10
    assert all(proxy.counts[f] > 0 for f in mix), proxy.counts
    _assert_exactly_once_in_order(platform, expected)


def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    """Each round starts a terminal process that records and syncs in a loop, and kills it with
    SIGKILL at a random moment. Afterwards every transaction whose record() returned (the rig
    prints its uuid only then) is on the platform exactly once, and the database is intact."""
    kills = int(os.environ.get("KIOSK_CRASH_KILLS", "200"))
    db = tmp_path / "terminal" / "kiosk.db"
    rng = random.Random(2026)
    returned: list[str] = []
    for _ in range(kills):
        lines = run_then_kill(
            [sys.executable, str(RIG), str(db), platform.url, platform.kiosk_id, platform.token],
            after=rng.uniform(0.0, 0.12),
        )
        returned += [line.split()[1] for line in lines if line.startswith("recorded ")]
    assert len(returned) > kills  # the kills landed in the middle of real work

    store = OutboxStore(db)
    SyncClient(store, platform.url, platform.kiosk_id, platform.token,
               personal_key=lambda: PLATFORM_KEY).push()  # fmt: skip
    assert store.status().waiting == 0
    store.close()
    in_db = _uuids_in(db)
    assert set(returned) <= set(in_db)  # nothing whose record returned was lost
    _assert_exactly_once_in_order(platform, in_db)


def test_kiosk_run_syncs_to_its_embedded_platform(tmp_path: Path) -> None:
    """The README's first command: no platform configured, so ``kiosk run`` starts the reference
    platform on loopback and delivers what waits in the outbox to it."""
    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_DATA_DIR": str(data)}
    env.pop("KIOSK_CENTRAL_URL", None)
    kiosk = [sys.executable, "-m", "kiosk"]
    uuids = [
        subprocess.run(
            [*kiosk, "queue", "enqueue", "--service", "feedback", "--payload", f'{{"n": {n}}}'],
            capture_output=True, text=True, env=env, timeout=60, check=True,
        ).stdout.strip()
        for n in range(3)
    ]  # fmt: skip
    run = subprocess.Popen([*kiosk, "run", "--simulate", "--windowed"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    central_db = f"sqlite:///{data / 'central' / 'central.db'}"

    def delivered() -> list[str]:
        out = subprocess.run(
            [sys.executable, "-m", "central", "export", "--kiosk", "kiosk-dev-001",
             "--db", central_db],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        return (
            [json.loads(x)["uuid"] for x in out.stdout.splitlines()] if out.returncode == 0 else []
        )

    try:
        wait_for(lambda: delivered() == uuids, timeout=30)
    finally:
        run.terminate()
        assert run.wait(timeout=30) == 0
    status = subprocess.run([*kiosk, "queue", "status", "--json"], capture_output=True,
                            text=True, env=env, timeout=60, check=True)  # fmt: skip
    assert json.loads(status.stdout)["by_state"]["acknowledged"] == 3
    left = subprocess.run(["pgrep", "-f", f"central serve --db {central_db}"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert left.stdout == "", "the embedded platform outlived the terminal"
