"""Drain of a backlog (default 100,000 transactions) from a terminal's outbox to a local platform
process, through the real sync client and HTTP API: seconds and transactions per second.

    .venv/bin/python tests/benches/bench_drain.py [--count 100000] [--batch 500] [--postgres]

With ``--postgres`` the platform stores into a throwaway PostgreSQL cluster (initdb + pg_ctl,
fsync on, as the ``postgres`` user when run as root) instead of its default SQLite file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from contracts.canonical import canonical_text
from offline.outbox import OutboxStore
from offline.sync import SyncClient
from offline.uuid7 import uuid7

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere
from tests.platform_process import central, start_server, stop_server


def fill_backlog(store_path: Path, count: int) -> None:
    """*count* waiting transactions, shaped like queue tickets, written in one go: the bench
    measures the drain, not the enqueue (bench_enqueue.py does that)."""
    OutboxStore(store_path).close()  # schema and key
    conn = sqlite3.connect(store_path)
    stamp = "2026-11-23T09:00:00+08:00"
    rows = [
        (str(uuid7()), "queue_ticket", canonical_text({"option": "general", "ticket": f"D{n:05d}"}))
        for n in range(count)
    ]
    with conn:
        conn.executemany(
            "INSERT INTO transactions (uuid, service, payload, created_at) VALUES (?, ?, ?, ?)",
            [(*row, stamp) for row in rows],
        )
        conn.execute("INSERT INTO outbox (seq) SELECT seq FROM transactions")
    conn.close()


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    bindir = next(Path("/usr/lib/postgresql").glob("*/bin"), None)
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found: apt-get install postgresql")
    base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(base, user="postgres", group="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120, cwd=base)

    data = base / "data"
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
        f"-k {base} -p {port} -c listen_addresses=''", "start")  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base}&port={port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def drain(db_url: str, folder: Path, count: int, batch: int) -> None:
    token = central("kiosk", "add", "bench-kiosk", "--db", db_url).strip().splitlines()[-1]
    store_path = folder / "terminal" / "kiosk.db"
    fill_backlog(store_path, count)
    server = start_server(db_url, log=folder / "central.log")
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().removeprefix("listening on ")
        store = OutboxStore(store_path)
        client = SyncClient(store, url, "bench-kiosk", token, batch_size=batch, timeout=60)
        started = time.perf_counter()
        result = client.push()
        seconds = time.perf_counter() - started
        left = store.status().waiting
        store.close()
    finally:
        stop_server(server)
    exported = central("export", "--kiosk", "bench-kiosk", "--db", db_url).count("\n")
    backend = db_url.split(":", 1)[0]
    print(
        json.dumps(
            {"backend": backend, "transactions": count, "batch": batch,
             "requests": result.requests, "acknowledged": result.acknowledged, "left": left,
             "on_platform": exported, "seconds": round(seconds, 2),
             "per_second": round(count / seconds)}
        )
    )  # fmt: skip
    print(f"{backend}: {count} transactions in {seconds:.1f} s = {count / seconds:.0f} /s "
          f"({result.requests} requests of {batch}); goal on SQLite: < 60 s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        folder = Path(tmp)
        if args.postgres:
            with throwaway_postgres() as url:
                drain(url, folder, args.count, args.batch)
        else:
            drain(f"sqlite:///{folder / 'central.db'}", folder, args.count, args.batch)


if __name__ == "__main__":
    main()
