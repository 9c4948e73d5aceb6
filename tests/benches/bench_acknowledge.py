"""Acknowledging a batch of delivered transactions: wall time and fsyncs, the outbox's one
transaction against the per-row autocommit it replaced, on the same disk.

    .venv/bin/python tests/benches/bench_acknowledge.py [--count 500] [--runs 9] [--dir DIR]

fsyncs are counted where SQLite makes them, not guessed: its unix VFS calls the C library's
fsync()/fdatasync() itself, below anything Python could wrap, so the bench builds a tiny shim with
gcc (one of deploy/dev.sh's packages) that counts those calls and passes them on, preloads it
(LD_PRELOAD) into a fresh run of itself, and reads the counter just before and after the
acknowledge: the set-up's own commits are not counted. Without gcc the column says so. Time is the
median over --runs fresh outboxes. The goal is one transaction: one commit, one fsync.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from offline.outbox import OutboxStore

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
static atomic_long calls;
long bench_fsyncs(void) { return atomic_load(&calls); }
int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    atomic_fetch_add(&calls, 1);
    return real(fd);
}
int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    atomic_fetch_add(&calls, 1);
    return real(fd);
}
"""


def per_row_autocommit(store: OutboxStore, seqs: list[int]) -> None:
    """The acknowledge this bench was written against: executemany in autocommit, so every
    row is its own commit (and fsync) while the store's lock is held."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    with store._lock:
        store._conn.executemany(
            "UPDATE outbox SET state = 'acknowledged', acknowledged_at = ?, reason = NULL"
            " WHERE seq = ? AND state IN ('pending', 'sent')",
            [(stamp, seq) for seq in seqs],
        )


WAYS: dict[str, Callable[[OutboxStore, list[int]], object]] = {
    "store.acknowledge": OutboxStore.acknowledge,
    "per-row autocommit": per_row_autocommit,
}


def fsync_counter() -> Callable[[], int] | None:
    if "bench_acknowledge_shim" not in os.environ.get("LD_PRELOAD", ""):
        return None
    counter = ctypes.CDLL(None).bench_fsyncs  # the preloaded shim's symbol, in this process
    counter.restype = ctypes.c_long
    return lambda: int(counter())


def one_run(folder: Path, way: str, count: int) -> tuple[float, int | None]:
    """A fresh outbox with *count* transactions in flight, acknowledged the given way."""
    store = OutboxStore(folder / "kiosk.db")
    for n in range(count):
        store.record("queue_ticket", {"option": "general", "n": n})
    seqs = [item.seq for item in store.take_batch(count)]
    counter = fsync_counter() or (lambda: -1)
    before = counter()
    started = time.perf_counter()
    WAYS[way](store, seqs)
    elapsed = time.perf_counter() - started
    fsyncs = counter() - before if before >= 0 else None
    assert store.status().by_state["acknowledged"] == count
    store.close()
    return elapsed, fsyncs


def measure(args: argparse.Namespace) -> None:
    base = args.dir or Path(tempfile.gettempdir())
    counted = fsync_counter() is not None
    print(f"disk: {base}, {args.count} transactions acknowledged, median of {args.runs} runs")
    for way in WAYS:
        times: list[float] = []
        fsyncs: set[int] = set()
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(dir=base) as tmp:
                elapsed, calls = one_run(Path(tmp), way, args.count)
            times.append(elapsed)
            fsyncs.update([calls] if calls is not None else [])
        median = statistics.median(times) * 1000
        said = "/".join(str(n) for n in sorted(fsyncs)) if counted else "n/a (no gcc)"
        print(f"{way:>20}: {median:8.2f} ms  (min {min(times) * 1000:.2f})  fsyncs: {said}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--dir", type=Path, help="where to put the databases (default: a temp dir)")
    args = parser.parse_args()
    gcc = shutil.which("gcc")
    if fsync_counter() is not None or gcc is None:
        measure(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        source, shim = Path(tmp) / "shim.c", Path(tmp) / "bench_acknowledge_shim.so"
        source.write_text(SHIM)
        subprocess.run([gcc, "-shared", "-fPIC", "-O2", "-o", str(shim), str(source), "-ldl"],
                       check=True)  # fmt: skip
        preload = " ".join(filter(None, [str(shim), os.environ.get("LD_PRELOAD")]))
        env = {**os.environ, "LD_PRELOAD": preload}
        subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env, check=True)


if __name__ == "__main__":
    main()
