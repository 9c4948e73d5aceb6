"""The visit controller: carries out the session's effects on workers and feeds results back.

It sits between the pure state machine and the world: device events come in from device threads,
database and printer work goes out to workers, and every answer returns through *post* so the
session is only ever touched from one thread (the UI thread in the app, the caller in tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from contracts.catalogue import Catalogue
from drivers.base import DeviceStatus
from drivers.idcard import IdCard
from drivers.idcard_reader import CardEvent, CardEventKind
from drivers.manager import DeviceManager
from drivers.pcsc_reader import SmartCardEvent, SmartCardEventKind
from drivers.receipt_printer import PrinterError
from kiosk.config.availability import unavailable as services_unavailable
from kiosk.config.settings import Settings
from kiosk.technician.redaction import forget_personal, remember_personal
from kiosk.visit import session as s
from kiosk.visit.receipts import receipt_for
from kiosk.workers import Post, Worker
from offline.outbox import OutboxStore, Recorded
from offline.sync import RefusedError, SyncStatus, SyncWorker

if TYPE_CHECKING:  # signing pulls in cryptography: loaded by the sync worker, not here
    from contracts.verify import Verified
    from contracts.wire import ServiceAnswer
    from drivers.vision import QrScanner
    from kiosk.config.updater import Outcome, TakeUp

QUERY_TIMEOUT = 8.0  # seconds a resident waits for an online answer before the offline path
QUEUE_TIMEOUT = 2.0  # seconds a drawn ticket waits to print how many wait ahead of it

log = logging.getLogger(__name__)

ViewListener = Callable[[s.VisitView], None]


class VisitController:
    def __init__(
        self,
        session: s.VisitSession,
        settings: Settings,
        devices: DeviceManager,
        db_path: Path,
        post: Post,
    ) -> None:
        self.session = session
        self.settings = settings
        self.devices = devices
        self._post = post
        self._listeners: list[ViewListener] = []
        self._last_view: s.VisitView | None = None
        self._store: OutboxStore | None = None
        self.sync: SyncWorker | None = None
        self.cards_held: Callable[[], bool] = lambda: False  # main thread: drop card events now
        # Main thread: takes a verified configuration up while running (kiosk.config.live);
        # without one, a bundle is in force from the next start.
        self.config_take_up: TakeUp | None = None
        self.db = Worker("outbox", post)
        self.printer_worker = Worker("printer", post)
        self.platform = Worker("platform", post)  # online queries: never on the UI thread
        self._scanner: QrScanner | None = None
        self._outbox_down = False  # set when opening the outbox failed: see _store_failed
        # Opening the database is disk work: it runs first on the outbox worker, so every later
        # record job (same thread, in order) finds the store ready.
        self.db.run(lambda: self._open_store(db_path), on_error=self._store_failed)
        reader = devices.id_card_reader
        if reader is not None:
            reader.add_card_listener(self._on_card_event)
        smart = devices.smart_card_reader
        if smart is not None:
            smart.add_card_listener(self._on_smart_card)
        devices.add_status_listener(self._on_device_status)

    # -- wiring -------------------------------------------------------------------------------
    def add_view_listener(self, listener: ViewListener) -> None:
        self._listeners.append(listener)
        listener(self.session.view())

    def _open_store(self, path: Path) -> None:
        from kiosk.platform_link.syncing import make_sync_worker

        self._store = self.settings.open_outbox(path)
        # Delivery has its own thread: the visit never waits on the network, only on the disk.
        self.sync = make_sync_worker(
            self._store, self.settings, self.devices, take_up=self._take_up_config
        )
        self.sync.add_listener(self._on_sync_status)
        self.sync.start()

    def use_platform(self, url: str, token: str) -> None:
        """Sync to this platform from now on (any thread). Queued behind the outbox's opening
        on the same worker, so the sync worker exists when it runs."""

        def attach() -> None:
            from kiosk.platform_link.syncing import make_client

            central = self.settings.central.model_copy(update={"url": url, "token": token})
            self.settings = self.settings.model_copy(update={"central": central})
            if self.sync is not None and self._store is not None:
                client = make_client(self._store, self.settings)
                if client is not None:
                    self.sync.set_client(client)

        self.db.run(attach)

    def _take_up_config(self, verified: Verified, outcome: Outcome) -> None:
        # Sync thread -> UI thread, where the hook (set while the app is built) is looked up.
        def hand_over() -> None:
            if self.config_take_up is not None:
                self.config_take_up(verified, outcome)
            else:
                self.db.run(lambda: outcome(True, "in force from the next start"))

        self._post(hand_over)

    def _on_sync_status(self, status: SyncStatus) -> None:
        event = s.SyncChanged(status.link.value, status.waiting)

        def changed() -> None:
            online_before = self._online
            self.dispatch(event)
            if self._online != online_before:
                self._refresh_availability()  # online-only services come and go with the link

        self._post(changed)

    @property
    def _online(self) -> bool:
        return self.session.view().sync_link in ("online", "unknown")

    def _store_failed(self, exc: BaseException) -> None:
        log.error("outbox cannot be opened: %s", exc)
        # Residents must not start what cannot be recorded: its tile is greyed with the reason
        # now, not an apology at the end of the visit. Calling staff stays (availability.py).
        self._outbox_down = self._store is None  # else only its sync failed: records are kept
        self._refresh_availability()

    @property
    def store(self) -> OutboxStore:
        if self._store is None:
            raise RuntimeError("the outbox is not open")
        return self._store

    def reconfigure(self, settings: Settings, catalogue: Catalogue) -> None:
        """Take a new configuration up (UI thread, attract screen): the session's catalogue,
        timeouts and language, the settings receipts are made from, and what is available."""
        self.session.reconfigure(catalogue, settings.timeouts, settings.language)
        self.settings = settings
        self._refresh_availability()

    # -- events in ----------------------------------------------------------------------------
    def dispatch(self, event: s.Event) -> None:
        """Feed one event to the session (UI thread only) and carry out its effects."""
        for effect in self.session.handle(event):
            self._execute(effect)
        self._publish()

    @property
    def suspended(self) -> bool:
        """A technician has the terminal: no visit can start."""
        return self.session.state is s.State.TECHNICIAN

    def suspend(self) -> None:
        """Hand the terminal to a technician: the visit in progress ends (its resident is
        forgotten), card events are ignored and the attract screen stays away until ``resume``."""
        self.dispatch(s.Suspend())

    def resume(self) -> None:
        """The technician has left: back to attract."""
        self.dispatch(s.Resume())

    def tick(self) -> None:
        for effect in self.session.tick():
            self._execute(effect)
        self._publish()

    def _card_read(self, card: IdCard) -> None:
        """UI thread: an identity from either reader."""
        if self.cards_held():
            return
        if not self.suspended:
            # From now until the visit ends, these values are masked in every log line.
            remember_personal(*(v for v in (card.name, card.id_number, card.address,
                                            card.authority) if v))  # fmt: skip
        self.dispatch(s.CardRead(card))

    def _on_smart_card(self, event: SmartCardEvent) -> None:
        # PC/SC thread. A social-security card identifies like an ID card; other cards and
        # removals mean nothing to a visit; a card that could not be read says so calmly.
        if event.kind is SmartCardEventKind.INSERTED and event.card and event.card.holder:
            identity = event.card.holder.as_id_card()
            self._post(lambda: self._card_read(identity))
        elif event.kind is SmartCardEventKind.FAILED:
            failed = s.CardFailed(event.fault.message_key if event.fault else "card.read_failed")
            self._post(lambda: None if self.cards_held() else self.dispatch(failed))

    def _on_card_event(self, event: CardEvent) -> None:
        # Reader thread: translate, then hop to the session's thread.
        mapped: s.Event | None = None
        if event.kind is CardEventKind.READING:
            mapped = s.CardReading()
        elif event.kind is CardEventKind.READ and event.card is not None:
            card = event.card
            self._post(lambda: self._card_read(card))
            return
        elif event.kind is CardEventKind.FAILED:
            mapped = s.CardFailed(event.fault.message_key if event.fault else "card.read_failed")
        elif event.kind is CardEventKind.REMOVED:
            self._post(lambda: self.dispatch(s.CardRemoved()))  # even while cards are held
            return
        if mapped is not None:
            self._post(lambda: None if self.cards_held() else self.dispatch(mapped))

    def _on_device_status(self, status: DeviceStatus) -> None:
        self._post(self._refresh_availability)

    def _refresh_availability(self) -> None:
        statuses = self.devices.statuses()
        unavailable = services_unavailable(self.session.catalogue, statuses, online=self._online,
                                           recording=not self._outbox_down)  # fmt: skip
        reasons = {code: (u.reason, u.alternative) for code, u in unavailable.items()}
        down = {
            st.kind.value: st.fault.message_key if st.fault else "device.unavailable"
            for st in statuses
            if not st.usable
        }
        self.dispatch(s.ServicesUnavailable(reasons, down))

    # -- effects out --------------------------------------------------------------------------
    def _execute(self, effect: s.Effect) -> None:
        if isinstance(effect, s.RecordTransaction):
            self._record(effect)
        elif isinstance(effect, s.AskPlatform):
            self._ask(effect)
        elif isinstance(effect, s.AskQueue):
            self._ask_queue(effect)
        elif isinstance(effect, s.PrintReceipt):
            self._print(effect)
        elif isinstance(effect, s.VisitEnded):
            log.info("visit %d ended (%s); personal data dropped", effect.visit, effect.reason)
            forget_personal()

    def _record(self, job: s.RecordTransaction) -> None:
        def work() -> Recorded:
            return self.store.record(
                job.service,
                dict(job.payload),
                personal=dict(job.personal) if job.personal else None,
                counter=job.counter,
                counter_field="ticket",
                counter_format=job.counter_format,
            )

        def done(rec: Recorded) -> None:
            log.info("recorded %s seq=%d uuid=%s", rec.service, rec.seq, rec.uuid)
            if self.sync is not None:
                self.sync.wake()  # online, it goes now; still through the outbox
            if job.answer:
                ticket = str(rec.payload.get("ticket", ""))
                self.dispatch(s.Recorded(job.visit, rec.uuid, ticket, rec.created_at))

        def failed(exc: BaseException) -> None:
            log.error("recording %s failed: %s", job.service, exc)
            if job.answer:
                self.dispatch(s.RecordFailed(job.visit, str(exc)))

        self.db.run(work, done, failed)

    def _print(self, job: s.PrintReceipt) -> None:
        printer = self.devices.receipt_printer
        if printer is None:
            self.dispatch(s.ReceiptDone(job.visit, False, "device.printer_unavailable"))
            return
        # Laid out on the printer's thread too (it reads the translation sources the first time).
        settings, catalogue = self.settings, self.session.catalogue

        def failed(exc: BaseException) -> None:
            key = exc.message_key if isinstance(exc, PrinterError) else "device.printer_unavailable"
            self.dispatch(s.ReceiptDone(job.visit, False, key))

        self.printer_worker.run(
            lambda: printer.print_receipt(receipt_for(job, settings, catalogue)),
            lambda _: self.dispatch(s.ReceiptDone(job.visit, True)),
            failed,
        )

    def _ask(self, job: s.AskPlatform) -> None:
        """An online query on the platform worker; offline (or no platform), the session
        offers its fallback. The identifier never reaches a log line."""
        central = self.settings.central
        if not central.url or not central.token:
            self.dispatch(s.Unanswered(job.visit, offline=True))
            return
        from offline.services_client import ServiceQueryClient

        client = ServiceQueryClient(central.url, central.kiosk_id, central.token,
                                    timeout=min(central.timeout, QUERY_TIMEOUT))  # fmt: skip

        def done(answer: ServiceAnswer) -> None:
            lines = tuple(s.AnswerLine(f.label_zh, f.label_en, f.value) for f in answer.fields)
            self.dispatch(
                s.Answered(job.visit, answer.status, lines, answer.reference, answer.reason or "")
            )

        def failed(exc: BaseException) -> None:
            offline = not isinstance(exc, RefusedError)
            log.warning("query %s: %s", job.query, "offline" if offline else "refused")
            self.dispatch(s.Unanswered(job.visit, offline=offline))

        self.platform.run(
            lambda: client.query(job.query, job.identifier, job.language),  # type: ignore[arg-type]
            done,
            failed,
        )

    def _ask_queue(self, job: s.AskQueue) -> None:
        """How many wait ahead of a ticket just drawn. The ticket prints when this answers, so
        it is asked only while the platform is reachable, with a short wait."""
        central = self.settings.central
        if not central.url or not central.token or not self._online:
            self.dispatch(s.QueueKnown(job.visit, None))
            return
        from offline.services_client import ServiceQueryClient

        client = ServiceQueryClient(central.url, central.kiosk_id, central.token,
                                    timeout=min(central.timeout, QUEUE_TIMEOUT))  # fmt: skip

        def failed(exc: BaseException) -> None:
            log.warning("queue ahead of a ticket: %s", exc)
            self.dispatch(s.QueueKnown(job.visit, None))

        self.platform.run(
            lambda: client.queue_ahead(job.ticket),
            lambda answer: self.dispatch(s.QueueKnown(job.visit, answer.ahead)),
            failed,
        )

    def _scan_while_asked(self, view: s.VisitView) -> None:
        """The QR scanner runs only while the scan step shows: no decoding work otherwise."""
        camera = self.devices.camera
        if view.state is s.State.SCAN and self._scanner is None and camera is not None:
            from drivers.vision import QrScanner

            def found(text: str) -> None:  # scanner thread
                self._post(lambda: self.dispatch(s.QrScanned(text)))

            self._scanner = QrScanner(camera, found)
            self._scanner.start()
        elif view.state is not s.State.SCAN and self._scanner is not None:
            self._scanner.stop()
            self._scanner = None

    def _publish(self) -> None:
        view = self.session.view()
        if view == self._last_view:
            return
        self._last_view = view
        self._scan_while_asked(view)
        for listener in list(self._listeners):
            listener(view)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.devices.start()
        self._post(self._refresh_availability)

    def shutdown(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()
            self._scanner = None
        self.devices.stop()
        self.platform.shutdown(wait=False)
        self.printer_worker.shutdown()
        self.db.shutdown()  # waits for queued commits: nothing recorded is abandoned
        if self.sync is not None:
            self.sync.stop()
        if self._store is not None:
            self._store.close()
        # A visit cut short by the stop: its resident's values leave the log masks with it.
        forget_personal()
