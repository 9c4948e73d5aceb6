"""What a terminal does with a configuration bundle the platform offers: verify it, apply it
atomically, let the running terminal take it up, check the terminal is still healthy, roll back
if not, and say what happened (the report goes back to the platform).

Taking a configuration up while running is the application's business (it must wait for the
attract screen); it is passed in as ``take_up``, which returns whether the terminal is healthy
with the new configuration. Without one, the bundle is applied for the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.bundles.signing import Trust, TrustError
from kiosk.bundles.store import ConfigStore, ConfigStoreError
from kiosk.bundles.verify import BundleRejected, Verified, verify_bundle

log = logging.getLogger(__name__)

TakeUp = Callable[[Verified], bool]


class ConfigUpdater:
    def __init__(
        self,
        data_dir: Path,
        kiosk_id: str,
        groups: frozenset[str],
        *,
        trusted: Path | None = None,
        take_up: TakeUp | None = None,
    ) -> None:
        self.store = ConfigStore(data_dir / "config")
        self.trusted = trusted or data_dir / "keys" / "config-trust"
        self.kiosk_id, self.groups = kiosk_id, groups
        self.take_up = take_up

    def offer(self, raw: bytes) -> dict[str, Any]:
        """Handle one offered bundle; never raises. Returns the report for the platform."""
        try:
            return self._offer(raw)
        except Exception as exc:  # a bug here must not stop deliveries: report it instead
            log.exception("configuration update failed")
            return self._report(None, "rejected", f"terminal error: {type(exc).__name__}")

    def _offer(self, raw: bytes) -> dict[str, Any]:
        try:
            trust = Trust.load(self.trusted)
            state = self.store.state()
            verified = verify_bundle(
                raw, trust, kiosk_id=self.kiosk_id, groups=self.groups,
                last_version=state.highest,
            )  # fmt: skip
        except (TrustError, ConfigStoreError) as exc:
            log.error("configuration refused: %s", exc)
            return self._report(None, "rejected", str(exc))
        except BundleRejected as exc:
            log.warning("configuration refused: %s", exc)
            return self._report(None, "rejected", str(exc))
        self.store.apply(verified.version, verified.raw)
        log.info("configuration version %d applied", verified.version)
        if self.take_up is not None and not self.take_up(verified):
            back = self.store.rollback()
            log.error("configuration %d failed its health check; back to %s",
                      verified.version, back.current)  # fmt: skip
            return self._report(verified.version, "rolled_back", "health check failed")
        note = "" if self.take_up is not None else "in force from the next start"
        return self._report(verified.version, "applied", note)

    def _report(self, version: int | None, status: str, reason: str) -> dict[str, Any]:
        try:
            running = self.store.state().current
        except ConfigStoreError:
            running = None
        return {"version": version, "running": running, "status": status, "reason": reason}
