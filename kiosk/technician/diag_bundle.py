"""The diagnostics bundle: one zip a technician takes away, written atomically, with the health
snapshot split into the files a support engineer opens first."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.technician.redaction import redact_data

BUNDLE_FILES = (
    "snapshot.json",
    "config.redacted.json",
    "logs/recent.jsonl",
    "selftests.json",
    "versions.json",
)


def default_bundle_path(data_dir: Path, kiosk_id: str, now: datetime | None = None) -> Path:
    """Where the diagnostics mode's button puts a bundle: ``<data>/diagnostics/``."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return data_dir / "diagnostics" / f"bundle-{kiosk_id}-{stamp}.zip"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def bundle_members(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """The bundle's files and their text. The logs are in their own file; the snapshot names it.
    Every string is masked once more: the last line of defence for personal data. (Strings only:
    our own keys, like a device's ``name``, stay readable, and numbers stay numbers.)"""
    snapshot = redact_data(snapshot, frozenset())
    logs = list(snapshot.get("logs") or [])
    rest = {k: v for k, v in snapshot.items() if k != "logs"}
    rest["logs"] = {"file": "logs/recent.jsonl", "lines": len(logs)}
    selftests = {
        "results": snapshot.get("selftests"),
        "last": snapshot.get("last_selftests") or [],
    }
    members = {
        "snapshot.json": _json(rest),
        "config.redacted.json": _json(snapshot.get("config") or {}),
        "logs/recent.jsonl": "".join(
            json.dumps(entry, ensure_ascii=False) + "\n" for entry in logs
        ),
        "selftests.json": _json(selftests),
        "versions.json": _json(snapshot.get("versions") or {}),
    }
    return members


def write_bundle(path: Path, snapshot: Mapping[str, Any]) -> Path:
    """Write the bundle for *snapshot* to *path*: a temporary file beside it, synced, then renamed
    over it, so a reader never finds half a zip. Returns *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, text in bundle_members(snapshot).items():
                    zf.writestr(name, text)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(fd)  # the rename itself survives a power cut
    finally:
        os.close(fd)
    return path
