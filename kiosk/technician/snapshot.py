"""The health snapshot: versions, redacted configuration, devices, outbox, last sync, disk, recent
logs and self-test results as one JSON-ready dict; and its compact form for a QR code."""

from __future__ import annotations

import json
import platform
import shutil
import sqlite3
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.base import Device
from kiosk import __version__
from kiosk.technician.devices import device_rows
from kiosk.technician.redaction import redact_config, redact_text

if TYPE_CHECKING:
    from kiosk.config.settings import Settings
    from kiosk.technician.selftests import SelfTestResult
    from offline.outbox import OutboxStore

SNAPSHOT_SCHEMA = 1
LOG_LINES = 300
DEAD_LETTERS = 100

# Distributions whose versions a technician may need; read from package metadata, so nothing
# heavy is imported (and Qt is never started) to learn them.
DISTRIBUTIONS = {
    "qt": ("PySide6-Essentials", "PySide6"),
    "opencv": ("opencv-python-headless", "opencv-python"),
    "pyscard": ("pyscard",),
    "python-escpos": ("python-escpos",),
    "pyserial": ("pyserial",),
    "cryptography": ("cryptography",),
}


def _distribution_version(names: Sequence[str]) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {
        "app": __version__,
        "python": platform.python_version(),
        "os": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }
    for key, names in DISTRIBUTIONS.items():
        found[key] = _distribution_version(names)
    qtcore = sys.modules.get("PySide6.QtCore")  # already loaded by the app: its runtime version
    if qtcore is not None:
        found["qt_runtime"] = str(qtcore.qVersion())
    return found


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def age_seconds(iso: str | None, now: datetime | None = None) -> float | None:
    if not iso:
        return None
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return None
    moment = now or datetime.now().astimezone()
    if then.tzinfo is None:
        then = then.astimezone()
    return round((moment - then).total_seconds(), 1)


def outbox_stats(store: OutboxStore | None) -> dict[str, Any]:
    """Counts, ages, size and dead letters (service and reason only, never a payload)."""
    if store is None:
        return {"present": False}
    st = store.status()
    facts = store.facts()
    return {
        "present": True,
        "total": st.total,
        "by_state": st.by_state,
        "waiting": st.waiting,
        # Records with personal fields held back until the platform's personal-data key arrives
        # (they are never sent in the clear): the technician's first clue to a missing key.
        "awaiting_key": st.unsealed_waiting,
        "oldest_pending_at": st.oldest_pending_at,
        "oldest_pending_age_seconds": age_seconds(st.oldest_pending_at),
        "size_bytes": st.size_bytes,
        "max_bytes": st.max_bytes,
        "capacity_used": round(st.capacity_used, 4),
        "capacity_warning": st.capacity_warning,
        "holding_personal_data": st.sealed,
        "dead_letters": [
            {
                "seq": d.seq,
                "uuid": d.uuid,
                "service": d.service,
                "status": d.status,
                # The platform's words: it might echo a field back, so masked like a log line.
                "reason": redact_text(d.reason),
                "died_at": d.died_at,
            }
            for d in store.dead_letters(DEAD_LETTERS)
        ],
        "last_sync": redact_text(facts["last_sync"]) if facts.get("last_sync") else None,
    }


def disk_usage(path: Path) -> dict[str, Any]:
    """Free space of the file system holding *path* (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return {"path": str(path), "error": str(exc)}
    return {
        "path": str(path),
        "total_bytes": usage.total,
        "free_bytes": usage.free,
        "free_fraction": round(usage.free / usage.total, 4) if usage.total else 0.0,
    }


def brief_snapshot(
    kiosk_id: str, devices: Iterable[Device], store: OutboxStore | None
) -> dict[str, Any]:
    """What fits on a test page's QR code: who, when, versions, devices, outbox."""
    return {
        "schema": SNAPSHOT_SCHEMA,
        "generated_at": _now(),
        "kiosk_id": kiosk_id,
        "versions": versions(),
        "devices": device_rows(devices),
        "outbox": outbox_stats(store),
    }


def health_snapshot(
    settings: Settings,
    *,
    devices: Iterable[Device] = (),
    store: OutboxStore | None = None,
    sync: Mapping[str, Any] | None = None,
    selftests: Sequence[SelfTestResult] | None = None,
    log_lines: int = LOG_LINES,
) -> dict[str, Any]:
    """The whole health snapshot of a terminal. *sync* is the sync worker's live status, when a
    running terminal has one; *selftests* the results just run. No personal data, no secrets."""
    from kiosk.config.settings import data_dir_of
    from kiosk.logs import tail_logs
    from kiosk.technician.selftests import load_last

    data_dir = data_dir_of(settings)
    snapshot = brief_snapshot(settings.central.kiosk_id, devices, store)
    snapshot["config"] = redact_config(settings.model_dump(mode="json"))
    snapshot["sync"] = {
        "last_result": snapshot["outbox"].get("last_sync"),
        "live": redact_config(dict(sync)) if sync is not None else None,
    }
    snapshot["disk"] = disk_usage(data_dir)
    snapshot["workers"] = workers_now(data_dir)
    snapshot["selftests"] = [r.as_json() for r in selftests] if selftests is not None else None
    snapshot["last_selftests"] = load_last(data_dir)
    try:
        snapshot["logs"] = tail_logs(data_dir / "logs", n=log_lines)
    except OSError:
        snapshot["logs"] = []
    return snapshot


def workers_now(data_dir: Path) -> dict[str, Any] | None:
    """The supervised workers: this process's own when it runs them (the terminal), else what
    the running terminal last wrote to its data directory (a technician's command line)."""
    from kiosk.technician.worker_file import read_worker_file
    from runtime.supervisor import WORKERS

    live = WORKERS.health()
    if live:
        return {"running": True, "workers": [h.as_json() for h in live]}
    return read_worker_file(data_dir)


def compact_health(snapshot: Mapping[str, Any], *, limit: int = 600) -> str:
    """The snapshot in a few hundred bytes of JSON, for a QR code a phone can read offline:
    kiosk, time, app version, each device's state (and fault code), outbox counts, last sync."""
    outbox = snapshot.get("outbox") or {}
    by_state = outbox.get("by_state") or {}
    brief: dict[str, Any] = {
        "k": snapshot.get("kiosk_id"),
        "t": snapshot.get("generated_at"),
        "v": (snapshot.get("versions") or {}).get("app"),
        "d": {
            row["name"]: row["state"] + (f":{row['fault']['code']}" if row.get("fault") else "")
            for row in snapshot.get("devices") or []
        },
    }
    if outbox.get("present"):
        brief["q"] = {
            "p": by_state.get("pending", 0),
            "s": by_state.get("sent", 0),
            "a": by_state.get("acknowledged", 0),
            "x": by_state.get("dead", 0),
            "o": outbox.get("oldest_pending_at"),
        }
        if outbox.get("last_sync"):
            brief["s"] = str(outbox["last_sync"])[:80]
    text = json.dumps(brief, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > limit:  # never a QR too dense for a receipt: drop the extras
        brief.pop("s", None)
        text = json.dumps(brief, ensure_ascii=False, separators=(",", ":"))
    return text


def heartbeat_info(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """A platform heartbeat body (``contracts/wire.py`` Heartbeat) from a snapshot."""
    outbox = snapshot.get("outbox") or {}
    return {
        "app_version": __version__,
        "devices": [
            {
                "name": row["name"],
                "kind": row["kind"],
                "driver": row["driver"],
                "state": row["state"],
                "fault_code": row["fault"]["code"] if row.get("fault") else None,
            }
            for row in snapshot.get("devices") or []
        ],
        "queue_depth": int(outbox.get("waiting", 0)),
        "sent_at": _now(),
        "workers": list((snapshot.get("workers") or {}).get("workers") or []),
    }
