"""Durable enqueue rate through the outbox API versus raw single-row SQLite commits (WAL +
synchronous=FULL) on the same disk, in one run; and the outbox's latency percentiles.

    .venv/bin/python tests/benches/bench_enqueue.py [--count 2000] [--dir DIR]

The raw baseline is the floor any durable design pays: one INSERT and one fsync'd commit per
row. The outbox does more per commit (transaction row, outbox row, sealed personal fields for
half of them) and must stay within half of that rate (ratio >= 0.5).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from offline.outbox import OutboxStore

PERSON = {"name": "张秀英", "id_number": "11010519491231002X"}


def raw_commits(path: Path, count: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    times = []
    for n in range(count):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (f'{{"option":"general","n":{n}}}',))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - started)
    conn.close()
    return times


def outbox_records(path: Path, count: int) -> list[float]:
    store = OutboxStore(path)
    times = []
    for n in range(count):
        personal = PERSON if n % 2 else None
        started = time.perf_counter()
        store.record("queue_ticket", {"option": "general", "n": n}, personal=personal)
        times.append(time.perf_counter() - started)
    store.close()
    return times


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--dir", type=Path, help="where to put the databases (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        # Interleave halves so a disk that slows down over the run affects both alike.
        raw: list[float] = []
        box: list[float] = []
        half = args.count // 2
        for part in range(2):
            raw += raw_commits(folder / f"raw{part}.db", half)
            box += outbox_records(folder / f"outbox{part}" / "kiosk.db", half)
    raw_rate = len(raw) / sum(raw)
    box_rate = len(box) / sum(box)
    print(f"disk: {args.dir or tempfile.gettempdir()}, {len(raw)} commits each")
    raw_median = statistics.median(raw) * 1000
    print(f"raw single-row WAL+FULL commits: {raw_rate:8.0f} /s  (median {raw_median:.3f} ms)")
    print(f"outbox.record (half with sealed personal data): {box_rate:8.0f} /s")
    print(f"ratio outbox/raw: {box_rate / raw_rate:.2f} (goal >= 0.5)")
    print(
        f"outbox latency: p50 {pct(box, 0.5):.3f} ms, p99 {pct(box, 0.99):.3f} ms, "
        f"max {max(box) * 1000:.3f} ms"
    )


if __name__ == "__main__":
    main()
