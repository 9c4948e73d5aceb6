"""The storage self-tests: the data directory's disk (free space, still writable) and the outbox
database (intact, how much waits, how full)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from kiosk.technician.redaction import redact_text
from kiosk.technician.selftest_types import Deadline, Outcome, SelfTestContext, skip
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
        return Outcome(False, f"disk: cannot read free space ({usage['error']})", usage)
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
        return Outcome(False, f"disk: the data directory is not writable ({exc.strerror})", usage)
    free, total = usage["free_bytes"], usage["total_bytes"]
    words = f"{_gib(free)} free of {_gib(total)} ({100 * usage['free_fraction']:.0f}%)"
    if free < MIN_FREE_BYTES or usage["free_fraction"] < MIN_FREE_FRACTION:
        return Outcome(False, f"disk: nearly full, {words}", usage)
    return Outcome(True, f"disk ok: {words}", usage)


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
        return skip("no outbox database yet (nothing recorded on this terminal)")
    try:
        verdict = _integrity(path, deadline)
    except sqlite3.Error as exc:
        reason = "did not finish in time" if "interrupt" in str(exc) else str(exc)
        return Outcome(False, f"outbox: integrity check failed ({reason})", {"database": str(path)})
    details: dict[str, Any] = {"database": str(path), "integrity": verdict}
    if verdict != "ok":
        return Outcome(False, f"outbox: database damaged ({redact_text(verdict)})", details)
    if ctx.store is None:
        return Outcome(True, "outbox database intact", details)
    stats = outbox_stats(ctx.store)
    stats.pop("dead_letters", None)
    details.update(stats)
    dead = stats["by_state"]["dead"]
    words = f"{stats['waiting']} waiting"
    age = age_seconds(stats["oldest_pending_at"])
    if age is not None:
        words += f" (oldest {_age_words(age)})"
    words += f", {dead} dead letter{'s' if dead != 1 else ''}"
    if stats["capacity_warning"]:
        return Outcome(False, f"outbox: {100 * stats['capacity_used']:.0f}% full; {words}", details)
    return Outcome(True, f"outbox ok: database intact, {words}", details)


def _age_words(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
