"""The diagnostics mode's work, without Qt: the PIN check, device rows, self-tests, queue facts,
logs and the bundle, each run on a worker with its answer delivered through *post*.

The screens call one method per touch and get plain data back on their own thread; nothing here
blocks the caller, and every entry, exit and action goes to the audit trail through the outbox's
worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from contracts.device_kinds import DeviceKind
from kiosk.config.settings import data_dir_of
from kiosk.technician.access import AuditTrail, EntryDecision, TechnicianGate, hash_pin
from kiosk.technician.devices import device_rows
from kiosk.technician.selftests import SelfTestContext, SelfTestResult, run_selftest, save_last
from kiosk.technician.speech import SPEECH, SpeechReport, SpeechState
from kiosk.workers import Post, Worker
from runtime.supervisor import WORKERS, Health

if TYPE_CHECKING:
    from drivers.manager import DeviceManager
    from kiosk.config.settings import Settings
    from offline.outbox import OutboxStore
    from offline.sync import SyncWorker

log = logging.getLogger(__name__)
T = TypeVar("T")

# Only under ``kiosk run --simulate`` (and tests), so the mode can be tried without configuring a
# PIN; a real terminal without configured PIN hashes keeps the entry closed.
SIMULATOR_TEST_PIN = "123456"
LOG_LINES = 300


class _QueuedRecorder:
    """Audit records go to the outbox's own worker, in order with every other write."""

    def __init__(self, worker: Worker, store: Callable[[], OutboxStore]) -> None:
        self._worker, self._store = worker, store

    def record(self, service: str, payload: dict[str, Any]) -> None:
        def write() -> None:
            self._store().record(service, payload)

        def failed(exc: BaseException) -> None:
            log.error("technician audit not recorded: %s", exc)

        self._worker.run(write, on_error=failed)


@dataclass(frozen=True)
class QueueFacts:
    stats: dict[str, Any]
    link: str  # online, offline, refused, unknown, unconfigured
    last_error: str | None
    last_success_at: str | None


class DiagnosticsService:
    """What the mode's pages ask for. Build it on the UI thread; every method returns at once."""

    def __init__(
        self,
        settings: Settings,
        devices: DeviceManager,
        store: Callable[[], OutboxStore],
        sync: Callable[[], SyncWorker | None],
        db: Worker,
        post: Post,
        *,
        simulate: bool = False,
        speech: SpeechReport = SPEECH,
    ) -> None:
        self.settings = settings
        self.devices = devices
        self.speech = speech
        self._store, self._sync, self._db = store, sync, db
        self._post = post
        self.worker = Worker("diagnostics", post)
        self.audit = AuditTrail(_QueuedRecorder(db, store))
        hashes = list(settings.diagnostics.technician_pin_hashes)
        self.test_pin = simulate and not hashes
        self._hashes = hashes
        self.gate = TechnicianGate.in_data_dir(data_dir_of(settings), hashes, self.audit)
        if self.test_pin:
            log.info("diagnostics mode: simulator test PIN %s allowed", SIMULATOR_TEST_PIN)
            # Hashed on the worker: scrypt is too slow for the thread that paints.
            # Set on the same worker that checks PINs, so no check can run before it.
            self.worker.run(lambda: self._use_test_hash(hash_pin(SIMULATOR_TEST_PIN)))
        elif not hashes:
            log.warning(
                "diagnostics mode closed: no [diagnostics] technician_pin_hashes configured"
            )

    def _use_test_hash(self, encoded: str) -> None:
        self.gate.pin_hashes = [encoded]

    @property
    def entry_open(self) -> bool:
        return bool(self._hashes) or self.test_pin

    def _run(
        self,
        fn: Callable[[], T],
        done: Callable[[T], None],
        worker: Worker | None = None,
    ) -> None:
        def failed(exc: BaseException) -> None:
            log.error("diagnostics: %s", exc)

        (worker or self.worker).run(fn, done, failed)

    # -- entry and exit -------------------------------------------------------------------------
    def try_pin(self, pin: str, done: Callable[[EntryDecision], None]) -> None:
        self._run(lambda: self.gate.try_pin(pin), done)

    def lock_remaining(self) -> float:
        return self.gate.lockout.remaining()

    def left(self, reason: str = "left") -> None:
        self.audit.exit(reason)

    def action(self, action: str, /, **facts: str | int | float | bool | None) -> None:
        self.audit.action(action, **facts)

    # -- pages ----------------------------------------------------------------------------------
    def device_rows(self) -> list[dict[str, Any]]:
        """In memory and quick: fine on the UI thread."""
        return device_rows(self.devices.devices.values())

    def worker_health(self) -> list[Health]:
        """Every supervised worker of this terminal (sync, device loops, embedded platform)."""
        return WORKERS.health()

    def speech_state(self) -> SpeechState | None:
        """The speech engine's state as last reported (None: this process has none)."""
        return self.speech.get()

    def refresh_devices(self, done: Callable[[list[dict[str, Any]]], None]) -> None:
        """Ask the printer for its paper and cover now, then the rows."""
        from drivers.receipt_printer import StatusCheckedPrinter

        def work() -> list[dict[str, Any]]:
            printer = self.devices.receipt_printer
            if isinstance(printer, StatusCheckedPrinter):
                printer.recheck()
            return self.device_rows()

        self.action("refresh_devices")
        self._run(work, done)

    def _context(self) -> SelfTestContext:
        from kiosk.technician.snapshot import health_snapshot

        try:
            store: OutboxStore | None = self._store()
        except RuntimeError:
            store = None
        devices: Mapping[DeviceKind, Any] = dict(self.devices.devices)
        central = self.settings.central
        url, token = self._platform()
        return SelfTestContext(
            data_dir=data_dir_of(self.settings),
            devices=devices,
            store=store,
            central_url=url,
            kiosk_id=central.kiosk_id,
            token=token,
            ca_file=str(central.ca_file) if central.ca_file else None,
            # No url configured: the terminal syncs to the platform it embeds (kiosk.app).
            embedded=central.url is None and central.embedded,
            speech=self.speech.get,
            snapshot=lambda: health_snapshot(
                self.settings, devices=devices.values(), store=store, log_lines=0
            ),
        )

    def _platform(self) -> tuple[str | None, str | None]:
        """Where the terminal syncs now and with what token: its sync client's, which is the
        embedded platform's once that is up, else the configured ones."""
        sync = self._sync()
        client = sync.client if sync is not None else None
        if client is not None:
            return client.url, client.token
        central = self.settings.central
        return central.url, central.token

    def selftest(self, name: str, done: Callable[[SelfTestResult], None]) -> None:
        def work() -> SelfTestResult:
            result = run_selftest(name, self._context())
            save_last(data_dir_of(self.settings), [result])
            return result

        def finished(result: SelfTestResult) -> None:
            self.action("selftest", name=name, verdict=result.verdict)
            done(result)

        self._run(work, finished)

    def queue(self, done: Callable[[QueueFacts], None]) -> None:
        from kiosk.technician.snapshot import outbox_stats

        def work() -> QueueFacts:
            try:
                store: OutboxStore | None = self._store()
            except RuntimeError:
                store = None
            sync = self._sync()
            status = sync.status if sync is not None else None
            return QueueFacts(
                outbox_stats(store),
                status.link.value if status else "unconfigured",
                status.last_error if status else None,
                status.last_success_at if status else None,
            )

        self._run(work, done)

    def sync_now(self) -> None:
        sync = self._sync()
        self.action("sync_now")
        if sync is not None:
            sync.wake()

    def logs(self, device: str | None, done: Callable[[list[dict[str, Any]]], None]) -> None:
        from kiosk.logs import tail_logs

        log_dir = data_dir_of(self.settings) / "logs"
        self._run(lambda: tail_logs(log_dir, n=LOG_LINES, device=device), done)

    def bundle(self, done: Callable[[str], None]) -> None:
        from kiosk.technician.diag_bundle import default_bundle_path, write_bundle
        from kiosk.technician.snapshot import health_snapshot

        def work() -> str:
            ctx = self._context()
            sync = self._sync()
            live = None
            if sync is not None:
                st = sync.status
                live = {**st.__dict__, "link": st.link.value}
            snapshot = health_snapshot(
                self.settings, devices=ctx.devices.values(), store=ctx.store, sync=live
            )
            path = default_bundle_path(ctx.data_dir, ctx.kiosk_id)
            return str(write_bundle(path, snapshot))

        def written(path: str) -> None:
            self.action("bundle", path=path)
            done(path)

        self._run(work, written)

    def shutdown(self) -> None:
        self.worker.shutdown()
