"""The storage self-tests: the data directory's disk (free space, still writable) and the outbox
database (intact, how much waits, how full)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from kiosk.technician.redaction import redact_text
from kiosk.technician.said import Age, Said, said
from kiosk.technician.selftest_types import (
    Deadline,
    Outcome,
    SelfTestContext,
    failed,
    passed,
    skip,
)
from kiosk.technician.snapshot import age_seconds

MIN_FREE_BYTES = 512 * 1024**2
MIN_FREE_FRACTION = 0.05


# -- disk --------------------------------------------------------------------------------------
def _gib(n: float) -> str:
    return f"{n / 1024**3:.1f} GB"


def disk_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from kiosk.technician.snapshot import disk_usage

    usage = disk_usage(ctx.data_dir)
    if "error" in usage:
        return failed(said("diag.result.disk_unreadable", reason=usage["error"]), details=usage)
    # A file system remounted read-only is a classic field failure: write, sync, remove.
    probe = ctx.data_dir / f".selftest-{os.getpid()}"
    try:
        ctx.data_dir.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as f:
            f.write(b"kiosk self-test\n")
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
        usage["writable"] = True
    except OSError as exc:
        usage["writable"] = False
        return failed(said("diag.result.disk_readonly", reason=exc.strerror), details=usage)
    free, total = usage["free_bytes"], usage["total_bytes"]
    space = {"free": _gib(free), "total": _gib(total), "percent": 100 * usage["free_fraction"]}
    if free < MIN_FREE_BYTES or usage["free_fraction"] < MIN_FREE_FRACTION:
        return failed(said("diag.result.disk_full", **space), details=usage)
    return passed(said("diag.result.disk_ok", **space), details=usage)


# -- outbox ------------------------------------------------------------------------------------
def _integrity(path: Path, deadline: Deadline) -> str:
    """``PRAGMA integrity_check``'s first line, on a read-only connection, cut off at the
    deadline (a large database takes a while)."""
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=deadline.left(5.0)
        )
    except sqlite3.OperationalError:  # a WAL database read-only needs its -shm: open it normally
        conn = sqlite3.connect(path, timeout=deadline.left(5.0))
    try:
        conn.set_progress_handler(lambda: int(deadline.left() <= 0), 10_000)
        row = conn.execute("PRAGMA integrity_check(1)").fetchone()
        return str(row[0]) if row else "no answer"
    finally:
        conn.close()


def outbox_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from kiosk.technician.snapshot import outbox_stats

    path = ctx.store.path if ctx.store is not None else ctx.data_dir / "kiosk.db"
    if not path.exists():
        return skip(said("diag.result.no_outbox"))
    try:
        verdict = _integrity(path, deadline)
    except sqlite3.Error as exc:
        where = {"database": str(path)}
        if "interrupt" in str(exc):
            return failed(said("diag.result.outbox_slow"), details=where)
        return failed(said("diag.result.outbox_unchecked", reason=str(exc)), details=where)
    details: dict[str, Any] = {"database": str(path), "integrity": verdict}
    if verdict != "ok":
        return failed(
            said("diag.result.outbox_damaged", verdict=redact_text(verdict)), details=details
        )
    if ctx.store is None:
        return passed(said("diag.result.outbox_intact"), details=details)
    stats = outbox_stats(ctx.store)
    stats.pop("dead_letters", None)
    details.update(stats)
    counts = _counts(stats["waiting"], age_seconds(stats["oldest_pending_at"]), stats)
    if stats["capacity_warning"]:
        full = said("diag.result.outbox_full", percent=100 * stats["capacity_used"])
        return failed(full, *counts, details=details)
    return passed(said("diag.result.outbox_ok"), *counts, details=details)


def _counts(waiting: int, oldest: float | None, stats: dict[str, Any]) -> tuple[Said, Said]:
    if oldest is None:
        wait = said("diag.result.waiting", n=waiting)
    else:
        wait = said("diag.result.waiting_oldest", n=waiting, age=Age(oldest))
    dead = stats["by_state"]["dead"]
    return wait, said(f"diag.result.dead_{'one' if dead == 1 else 'many'}", n=dead)
