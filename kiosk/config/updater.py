"""What a terminal does with a configuration bundle the platform offers: verify it, apply it
atomically, let the running terminal take it up, check the terminal is still healthy, roll back
if not, and say what happened (the reports go back to the platform).

Taking a configuration up while running is the application's business (it waits for the attract
screen so no resident's visit is interrupted); it is passed in as ``take_up``. That can take
minutes, so it is asynchronous: ``take_up(verified, outcome)`` returns at once and calls
``outcome(healthy, detail)`` later, from any thread. Meanwhile the platform hears "applied,
waiting for the attract screen"; the final word is kept in ``report-due.json`` until the sync
worker has delivered it (``due_report`` / ``report_delivered``), so a crash or a dead network
cannot lose it. Without a ``take_up``, a bundle is in force from the next start.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from contracts.signing import Trust, TrustError
from contracts.verify import (
    MAX_CLOCK_SKEW,
    MAX_VALIDITY,
    BundleRejected,
    Verified,
    verify_bundle,
)
from kiosk.config.bundle_store import ConfigStore, ConfigStoreError, write_atomically
from kiosk.config.settings import SYSTEM_TRUST, Settings, data_dir_of, trust_dir

log = logging.getLogger(__name__)

Outcome = Callable[[bool, str], None]  # healthy, what was wrong (or a note when healthy)
TakeUp = Callable[[Verified, Outcome], None]

WAITING = "waiting for the attract screen to take it up"


class ConfigUpdater:
    def __init__(
        self,
        data_dir: Path,
        kiosk_id: str,
        groups: frozenset[str],
        *,
        trusted: Path = SYSTEM_TRUST,
        take_up: TakeUp | None = None,
        report_due: Callable[[], None] | None = None,
        max_skew: timedelta = MAX_CLOCK_SKEW,
        max_validity: timedelta = MAX_VALIDITY,
        screen_check: Callable[[bytes], list[str]] | None = None,
    ) -> None:
        self.store = ConfigStore(data_dir / "config")
        self.trusted = trusted  # never the data directory by default: see trust_dir()
        self.kiosk_id, self.groups = kiosk_id, groups
        self.max_skew, self.max_validity = max_skew, max_validity
        self.take_up = take_up
        # Every screen with the new configuration, audited offscreen before anything changes
        # (kiosk/config/screen_check.py); the running terminal passes it.
        self.screen_check = screen_check
        self.report_due = report_due  # e.g. wake the sync worker: a final report is waiting
        self._due_path = self.store.folder / "report-due.json"
        self._waiting_path = self.store.folder / "taking-up.json"
        self._lock = threading.Lock()
        self._restarted_while_waiting()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        take_up: TakeUp | None = None,
        report_due: Callable[[], None] | None = None,
        screen_check: Callable[[bytes], list[str]] | None = None,
    ) -> ConfigUpdater:
        central = settings.central
        return cls(
            data_dir_of(settings),
            central.kiosk_id,
            frozenset(central.groups),
            trusted=trust_dir(settings),
            take_up=take_up,
            report_due=report_due,
            screen_check=screen_check,
            max_skew=timedelta(seconds=central.config_clock_skew),
            max_validity=timedelta(days=central.config_max_days),
        )

    # -- the sync worker's side -----------------------------------------------------------------
    def offer(self, raw: bytes) -> dict[str, Any]:
        """Handle one offered bundle; never raises. Returns the report for the platform."""
        try:
            return self._offer(raw)
        except Exception as exc:  # a bug here must not stop deliveries: report it instead
            log.exception("configuration update failed")
            return self._report(None, "rejected", f"terminal error: {type(exc).__name__}")

    def due_report(self) -> dict[str, Any] | None:
        """A final report not yet delivered to the platform, if any."""
        with self._lock:
            try:
                report: dict[str, Any] = json.loads(self._due_path.read_text())
            except FileNotFoundError:
                return None
            except (OSError, ValueError) as exc:
                log.warning("undeliverable configuration report dropped: %s", exc)
                self._due_path.unlink(missing_ok=True)
                return None
            return report

    def report_delivered(self, report: dict[str, Any]) -> None:
        with self._lock:
            try:
                if json.loads(self._due_path.read_text()) == report:
                    self._due_path.unlink()
            except (OSError, ValueError):
                pass

    # -- internals ------------------------------------------------------------------------------
    def _offer(self, raw: bytes) -> dict[str, Any]:
        try:
            trust = Trust.load(self.trusted)
            state = self.store.state()
            verified = verify_bundle(
                raw, trust, kiosk_id=self.kiosk_id, groups=self.groups,
                last_version=state.highest, max_skew=self.max_skew,
                max_validity=self.max_validity,
            )  # fmt: skip
        except (TrustError, ConfigStoreError) as exc:
            log.error("configuration refused: %s", exc)
            return self._report(None, "rejected", str(exc))
        except BundleRejected as exc:
            log.warning("configuration refused: %s", exc)
            return self._report(None, "rejected", str(exc))
        if self.screen_check is not None:
            from kiosk.config.screen_check import summary

            problems = self.screen_check(verified.raw)
            if problems:
                log.error("configuration %d refused: %s", verified.version, summary(problems))
                return self._report(verified.version, "rejected", summary(problems))
        # The marker goes down before the state flips: a crash in between leaves a marker for
        # a version that is not current, which the restart check ignores.
        write_atomically(self._waiting_path, json.dumps({"version": verified.version}).encode())
        self.store.apply(verified.version, verified.raw)
        log.info("configuration version %d applied", verified.version)
        if self.take_up is None:
            self._waiting_path.unlink(missing_ok=True)
            return self._report(verified.version, "applied", "in force from the next start")
        report = self._report(verified.version, "applied", WAITING)
        self.take_up(verified, partial(self._taken_up, verified.version))
        return report

    def _taken_up(self, version: int, healthy: bool, detail: str) -> None:
        """The running terminal took *version* up (any thread): keep it or roll back, and
        leave the final report for the sync worker."""
        try:
            if healthy:
                log.info("configuration version %d in force", version)
                report = self._report(version, "applied", detail)
            else:
                back = self.store.rollback(to_local=True)
                log.error("configuration %d failed its health check (%s); back to %s",
                          version, detail, back.current or "the local configuration")  # fmt: skip
                report = self._report(version, "rolled_back", f"health check failed: {detail}")
            self._leave(report)
        except Exception:  # the terminal keeps running whatever the disk says
            log.exception("configuration take-up could not be recorded")
        finally:
            self._waiting_path.unlink(missing_ok=True)

    def _restarted_while_waiting(self) -> None:
        """The terminal stopped between applying a bundle and taking it up: it started with
        that bundle (the overlay at start), so say so rather than "waiting" for ever."""
        try:
            waiting = json.loads(self._waiting_path.read_text())["version"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        try:
            if self.store.state().current == waiting:
                refused = self._refused_at_start(waiting)
                if refused:
                    self._leave(self._report(waiting, "rejected", f"refused at start: {refused}"))
                else:
                    self._leave(self._report(waiting, "applied", "in force since a restart"))
        except (OSError, ConfigStoreError) as exc:
            log.warning("configuration report after a restart not made: %s", exc)
        self._waiting_path.unlink(missing_ok=True)

    def _refused_at_start(self, version: int) -> str:
        """Why the stored *version* no longer verifies (as the start's overlay found), or ""."""
        try:
            trust = Trust.load(self.trusted)
            raw = self.store.bundle_path(version).read_bytes()
            verify_bundle(raw, trust, kiosk_id=self.kiosk_id, groups=self.groups, recheck=True)
        except (TrustError, BundleRejected) as exc:
            return str(exc)
        return ""

    def _leave(self, report: dict[str, Any]) -> None:
        with self._lock:
            write_atomically(self._due_path, json.dumps(report).encode())
        if self.report_due is not None:
            self.report_due()

    def _report(self, version: int | None, status: str, reason: str) -> dict[str, Any]:
        try:
            running = self.store.state().current
        except ConfigStoreError:
            running = None
        return {"version": version, "running": running, "status": status, "reason": reason}
