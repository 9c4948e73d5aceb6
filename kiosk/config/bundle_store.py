"""Applied configuration on disk, changed atomically: after a crash at any point the terminal
has either the old configuration or the new one, never a mix.

Layout under ``<data dir>/config/``: ``bundles/v<N>.json`` (the verified bytes, immutable) and
``state.json`` = ``{"current": N, "previous": M, "highest": H, "applied_at": ...}``. A new bundle
file is written and made durable first; only then does the state file flip, by rename, in one
step. ``highest`` only grows: a rollback goes back to the previous configuration, but the
version rolled back from can never be applied again (an operator issues a newer one).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


class ConfigStoreError(Exception):
    """The applied configuration cannot be read or changed; the message says why."""


@dataclass(frozen=True)
class AppliedState:
    current: int | None = None
    previous: int | None = None
    highest: int = 0
    applied_at: str | None = None


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename over *path*, fsync the folder: all of it or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class ConfigStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_path = folder / "state.json"

    def bundle_path(self, version: int) -> Path:
        return self.folder / "bundles" / f"v{version}.json"

    def state(self) -> AppliedState:
        try:
            raw = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return AppliedState()
        except (OSError, ValueError) as exc:
            raise ConfigStoreError(f"{self.state_path}: unreadable ({exc})") from exc
        return AppliedState(
            raw.get("current"), raw.get("previous"), int(raw.get("highest", 0)),
            raw.get("applied_at"),
        )  # fmt: skip

    def current_bundle(self) -> bytes | None:
        version = self.state().current
        return None if version is None else self.bundle_path(version).read_bytes()

    def _write_state(self, state: AppliedState) -> None:
        body: dict[str, Any] = {
            "current": state.current,
            "previous": state.previous,
            "highest": state.highest,
            "applied_at": state.applied_at,
        }
        write_atomically(self.state_path, json.dumps(body, indent=1).encode())

    def apply(self, version: int, raw: bytes, now: datetime | None = None) -> AppliedState:
        """Store a verified bundle and make it current; the old current becomes previous."""
        before = self.state()
        if version <= before.highest:
            raise ConfigStoreError(f"version {version} is not newer than {before.highest}")
        write_atomically(self.bundle_path(version), raw)
        after = AppliedState(
            current=version,
            previous=before.current,
            highest=version,
            applied_at=(now or datetime.now().astimezone()).isoformat(timespec="seconds"),
        )
        self._write_state(after)
        return after

    def rollback(self, now: datetime | None = None, *, to_local: bool = False) -> AppliedState:
        """Back to the previous bundle; with *to_local*, a first bundle goes back to the local
        configuration file (no bundle current) rather than refusing."""
        before = self.state()
        if before.previous is None and not (to_local and before.current is not None):
            raise ConfigStoreError("there is no previous configuration to go back to")
        after = AppliedState(
            current=before.previous,
            previous=None,
            highest=before.highest,
            applied_at=(now or datetime.now().astimezone()).isoformat(timespec="seconds"),
        )
        self._write_state(after)
        return after
