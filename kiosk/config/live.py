"""Taking a new signed configuration up in the running terminal, between visits.

The sync worker hands over a verified, applied bundle (``take_up``); it waits here until the
terminal shows the attract screen with no resident's data held, is installed in the controller
and the screens, and is health-checked. A configuration that fails the check is taken down again
at once (the previous one is reinstalled) and the updater rolls the store back; either way the
outcome is reported to the platform.

The check lays out a receipt of every kind before the configuration is installed. The screens
were checked before the bundle got here: the updater renders every screen with it offscreen in a
child process and runs the layout audit (kiosk/config/screen_check.py), so nothing is painted on
the Qt main thread for it and no visit can start between the check and the take-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from contracts.catalogue import IDENTIFY_MEANS, Catalogue
from contracts.device_kinds import DeviceKind
from contracts.payload import RECEIPT_QR_FIELDS
from contracts.verify import Verified
from drivers.escpos_layout import PrinterProfile, render
from kiosk.config.overlay import payload_changes
from kiosk.config.settings import Settings
from kiosk.config.updater import Outcome
from kiosk.visit.controller import VisitController
from kiosk.visit.events import PrintReceipt
from kiosk.visit.receipts import receipt_for
from kiosk.visit.session import State
from kiosk.visit.view import AnswerLine
from kiosk.workers import Post

log = logging.getLogger(__name__)

Install = Callable[[Settings, Catalogue], None]  # show this configuration on the screens


def health_problems(catalogue: Catalogue, device_kinds: Iterable[DeviceKind]) -> list[str]:
    """What makes *catalogue* unfit for this terminal: no service (other than calling staff)
    that its devices can run. Names and steps were checked by the schema. Empty when healthy."""
    have = set(device_kinds)
    usable = [
        s for s in catalogue.services
        if s.action != "call_staff" and set(s.needs) <= have
        and (not s.identify_means or any(IDENTIFY_MEANS[m] in have for m in s.identify_means))
    ]  # fmt: skip
    if not usable:
        return ["no service in the catalogue can run on this terminal's devices"]
    return []


def receipt_problems(settings: Settings, catalogue: Catalogue) -> list[str]:
    """Lay out one receipt of every kind the terminal prints (ticket, request slip, answer,
    certificate), with sample data, to this terminal's printer's bytes: whatever would fail at
    the printer (a placeholder the terminal does not fill, a text that breaks the layout) fails
    here, before the configuration is in force, rather than on every resident's receipt. Empty
    when all of them lay out."""
    options = settings.devices[DeviceKind.RECEIPT_PRINTER.value].options()
    shipped = PrinterProfile()
    profile = PrinterProfile(
        columns=int(options.get("columns", shipped.columns)),
        encoding=str(options.get("encoding", shipped.encoding)),
        native_qr=bool(options.get("native_qr", shipped.native_qr)),
    )
    problems = []
    for job in _sample_jobs(catalogue):
        try:
            render(receipt_for(job, settings, catalogue), profile)
        except Exception as exc:  # anything at all: this is what a resident's receipt would meet
            problems.append(
                f"the {job.kind} receipt cannot be laid out: {type(exc).__name__}: {exc}"
            )
    return problems


def _sample_jobs(catalogue: Catalogue) -> list[PrintReceipt]:
    ticket = next((s for s in catalogue.services if s.action == "ticket" and s.options), None)
    query = next((s for s in catalogue.services if s.query), None)
    certificate = next((s for s in catalogue.services if s.action == "certificate"), None)
    now = datetime.now().astimezone()
    uuid, number = RECEIPT_QR_FIELDS["uuid"], RECEIPT_QR_FIELDS["ticket"]
    answer = (AnswerLine("参保状态", "Status", "正常参保 Insured"),)
    return [
        PrintReceipt(0, "ticket", ticket.code if ticket else "queue_ticket", "zh_CN",
                     option=ticket.options[0].code if ticket else "", ticket=number, uuid=uuid,
                     created_at=now, ahead=3),
        PrintReceipt(0, "slip", query.code if query else "query", "zh_CN", ticket="R0001",
                     uuid=uuid, created_at=now),
        PrintReceipt(0, "answer", query.code if query else "query", "zh_CN", lines=answer,
                     reference="Q20261205000001", created_at=now),
        PrintReceipt(0, "certificate", certificate.code if certificate else "certificate",
                     "zh_CN", option=certificate.options[0].code if certificate and
                     certificate.options else "", lines=answer, reference="C20261205000001",
                     holder="张*英  1101**********0029", created_at=now),
    ]  # fmt: skip


class LiveConfig:
    def __init__(
        self,
        controller: VisitController,
        local: Settings,
        local_catalogue: Catalogue,
        install: Install,
        post: Post,
    ) -> None:
        self.controller = controller
        self.local, self.local_catalogue = local, local_catalogue
        self.install = install
        self._post = post
        self._waiting: tuple[Verified, Outcome] | None = None
        controller.add_view_listener(self._on_view)

    @property
    def waiting(self) -> bool:
        return self._waiting is not None

    def take_up(self, verified: Verified, outcome: Outcome) -> None:
        """Main thread (the controller hands bundles over): take *verified* up as soon as no
        one is using the terminal. A newer bundle arriving first replaces a waiting one."""
        if self._waiting is not None:
            older = self._waiting[1]
            # Superseded before it was ever in force: the newer bundle's report says the rest.
            self._finish(older, True, "")
        self._waiting = (verified, outcome)
        self.try_now()

    def _on_view(self, view: object) -> None:
        # Not from inside the controller's publishing: a fresh turn of the event loop.
        if self._waiting is not None:
            self._post(self.try_now)

    def try_now(self) -> None:
        """Main thread. Takes the waiting configuration up if the terminal is idle."""
        session = self.controller.session
        if self._waiting is None or session.state is not State.ATTRACT:
            return
        if session.holds_personal_data:
            return
        verified, outcome = self._waiting
        self._waiting = None
        previous = (self.controller.settings, session.catalogue)
        installed = False
        try:
            payload = verified.payload
            settings = self.controller.settings.model_copy(
                update=payload_changes(payload, self.local)
            )
            catalogue = payload.parsed_catalogue() or self.local_catalogue
            # Receipts first: a configuration that cannot print is never shown at all.
            problems = receipt_problems(settings, catalogue)
            if not problems:
                installed = True
                self._install(settings, catalogue)
                kinds = [status.kind for status in self.controller.devices.statuses()]
                problems = health_problems(catalogue, kinds)
        except Exception as exc:  # whatever broke, the previous configuration comes back
            log.exception("configuration %d could not be taken up", verified.version)
            problems = [f"{type(exc).__name__}: {exc}"]
        if problems:
            log.error("configuration %d unhealthy: %s", verified.version, "; ".join(problems))
            if installed:
                self._install(*previous)
        else:
            log.info("configuration %d taken up", verified.version)
        self._finish(outcome, not problems, "; ".join(problems))

    def _install(self, settings: Settings, catalogue: Catalogue) -> None:
        self.controller.reconfigure(settings, catalogue)
        self.install(settings, catalogue)

    def _finish(self, outcome: Outcome, healthy: bool, detail: str) -> None:
        # The outcome writes files (and may roll back): disk work, on the outbox worker.
        self.controller.db.run(lambda: outcome(healthy, detail))
