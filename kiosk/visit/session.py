"""A resident's visit as a Qt-free state machine.

``handle(event)`` moves the visit and returns the effects the controller must carry out (record a
transaction, ask the platform, print, forget the resident); the machine itself does no I/O, so
every path through every service, timeouts included, is testable without Qt, devices or a disk.

A visit starts at the catalogue (a tap) or at identification (a card laid on the reader). A chosen
service runs its steps from the catalogue data in order (an identify step is skipped when the
resident already identified), then its action: a ticket, a platform query (offline: a request
slip where the service allows it), a certificate, a check-in, feedback, or a call for staff.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from contracts.certificates import new_reference
from contracts.id_number import is_valid_id_number
from contracts.records import reasons_for
from drivers.idcard import IdCard, masked_id_number, masked_name
from kiosk.visit import recording
from kiosk.visit.events import (
    Answered,
    AskPlatform,
    AskQueue,
    Back,
    CallStaff,
    Cancel,
    CardFailed,
    CardRead,
    CardReading,
    CardRemoved,
    ChooseOption,
    ChooseService,
    Confirm,
    Effect,
    Entered,
    Event,
    Extend,
    PickReason,
    PrintAnswer,
    PrintReceipt,
    QrScanned,
    QueueKnown,
    Rate,
    ReceiptDone,
    Recorded,
    RecordFailed,
    RecordTransaction,
    RequestSlip,
    Resume,
    ServicesUnavailable,
    SetContrast,
    SetElderMode,
    SetLanguage,
    Start,
    SubmitRating,
    Suspend,
    SyncChanged,
    Unanswered,
    VisitEnded,
)
from kiosk.visit.view import AnswerLine, State, VisitView

if TYPE_CHECKING:  # settings import pydantic; the session only reads attributes off these
    from contracts.catalogue import Catalogue, Service, Step
    from contracts.payload import Timeouts

__all__ = [
    "AnswerLine", "Answered", "AskPlatform", "AskQueue", "Back", "CallStaff", "Cancel",
    "CardFailed", "CardRead", "CardReading", "CardRemoved", "ChooseOption", "ChooseService",
    "Confirm", "Effect", "Entered", "Event", "Extend", "PickReason", "PrintAnswer", "PrintReceipt",
    "QrScanned", "QueueKnown", "Rate", "ReceiptDone", "RecordFailed", "RecordTransaction",
    "Recorded", "RequestSlip", "Resume", "ServicesUnavailable", "SetContrast", "SetElderMode",
    "SetLanguage", "Start", "State", "SubmitRating", "Suspend", "SyncChanged", "Unanswered",
    "VisitEnded", "VisitSession", "VisitView",
]  # fmt: skip

ELDER_AGE = 60  # the card's birth date suggests elder mode from this age

# States where the resident is reading or deciding: a warning comes first and one tap extends.
_WARNED = frozenset(
    {State.IDENTIFY, State.CATALOGUE, State.SCAN, State.CHOOSE, State.KEYPAD, State.FEEDBACK,
     State.CONFIRM, State.RESULT, State.RATING}
)  # fmt: skip
_STEP_STATES = {
    "identify": State.IDENTIFY,
    "scan": State.SCAN,
    "choose": State.CHOOSE,
    "keypad": State.KEYPAD,
    "feedback": State.FEEDBACK,
    "confirm": State.CONFIRM,
}
# States in which a card on the reader starts (or continues) identification.
_CARD_STATES = frozenset({State.ATTRACT, State.IDENTIFY, State.GOODBYE})
# Events a resident causes: each one restarts the current step's timer.
_RESIDENT_EVENTS = (
    Start, ChooseService, ChooseOption, Confirm, Back, Extend, SetLanguage, SetElderMode,
    SetContrast, Rate, PickReason,
    CardRead, QrScanned, Entered, CallStaff, PrintAnswer, RequestSlip,
)  # fmt: skip
# Elder mode gives every step this much longer before it times out.
ELDER_TIME_FACTOR = 1.5
# After a face, the rating goes in by itself this long after the last tap: a resident who only
# wanted to tap a face is not kept; one who was not satisfied gets longer to say why.
RATING_SUBMIT_SECONDS = {5: 10.0, 4: 10.0, 3: 20.0, 2: 30.0, 1: 30.0}


def masked_phone(phone: str) -> str:
    """138****8000: enough for the resident to recognise their number, not for a stranger."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else ("****" if phone else "")


@dataclass
class _Visit:
    """Everything known about the current resident; replaced wholesale when the visit ends."""

    number: int
    # Links this visit's records (contracts/records.py); random, so it says nothing of anyone.
    visit_id: str = field(default_factory=lambda: os.urandom(16).hex())
    card: IdCard | None = None
    service: str | None = None
    option: str | None = None
    step: int = -1  # index into the service's steps
    scanned: str | None = None
    entered: dict[str, str] = field(default_factory=dict)  # step word -> value
    ticket: str | None = None
    uuid: str | None = None
    created_at: object = None
    reading_card: bool = False
    notice_key: str | None = None
    receipt: str | None = None
    receipt_key: str | None = None
    end_reason: str | None = None
    outcome: str | None = None
    answer: tuple[AnswerLine, ...] = ()
    reference: str | None = None
    reason_key: str | None = None
    staff_called: bool = False
    elder: bool = False
    contrast: bool = False
    elder_offered: bool = False
    rating: int = 0  # the face tapped, 0 until one is
    ahead: int | None = None  # people waiting ahead of the ticket, when the platform said
    ticket_unprinted: bool = False  # drawn, its print waiting for the queue's answer
    rating_reasons: tuple[str, ...] = ()
    # Anonymous metrics: (state, seconds) per step, faults met. No personal value ever.
    started: float | None = None
    entered_at: float = 0.0
    timings: list[tuple[str, float]] = field(default_factory=list)
    faults: set[str] = field(default_factory=set)


class VisitSession:
    def __init__(
        self,
        catalogue: Catalogue,
        timeouts: Timeouts,
        *,
        default_language: str = "zh_CN",
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.catalogue = catalogue
        self.timeouts = timeouts
        self.default_language = default_language
        self.language = default_language
        self._clock = clock
        self._today = today
        self.state = State.ATTRACT
        self._visit = _Visit(number=1)
        self._deadline: float | None = None
        self._unavailable: dict[str, tuple[str, str]] = {}
        self._devices_down: dict[str, str] = {}
        # A card lies on the reader (seen read or failing, not yet seen go): where it is, not whose.
        self._card_on_reader = False
        self._sync = SyncChanged("unknown", 0)

    # -- reading ------------------------------------------------------------------------------
    @property
    def visit_number(self) -> int:
        return self._visit.number

    @property
    def holds_personal_data(self) -> bool:
        v = self._visit
        return bool(v.card or v.scanned or v.entered or v.answer)

    def _service(self) -> Service | None:
        return self.catalogue.get(self._visit.service or "")

    def _current_step(self) -> Step | None:
        service = self._service()
        if service is None or not 0 <= self._visit.step < len(service.steps):
            return None
        return service.steps[self._visit.step]

    def view(self) -> VisitView:
        v = self._visit
        service, step = self._service(), self._current_step()
        keypad = step.detail[0] if step and step.kind == "keypad" else None
        return VisitView(
            state=self.state,
            language=self.language,
            visit=v.number,
            resident_name=v.card.name if v.card else None,
            service=v.service,
            option=v.option,
            ticket=v.ticket,
            created_at=v.created_at,  # type: ignore[arg-type]
            reading_card=v.reading_card,
            notice_key=v.notice_key,
            receipt=v.receipt,
            receipt_key=v.receipt_key,
            end_reason=v.end_reason,
            warning_seconds=self._warning_seconds(),
            unavailable=dict(self._unavailable),
            device_notice_key=self._device_notice_key(),
            sync_link=self._sync.link,
            sync_waiting=self._sync.waiting,
            card_reader_down="id_card_reader" in self._devices_down,
            card_left_on_reader=self._card_on_reader
            and self.state in (State.GOODBYE, State.ATTRACT),
            feedback_text=v.entered.get("feedback", "") if self.state is State.CONFIRM else "",
            feedback_phone=masked_phone(v.entered.get("keypad:phone", ""))
            if self.state is State.CONFIRM
            else "",
            outcome=v.outcome,
            answer=v.answer,
            reference=v.reference,
            reason_key=v.reason_key,
            identify_by=step.detail if step and step.kind == "identify" else (),
            keypad_kind=keypad,
            entered=v.entered.get(step.word, "") if step else "",
            staff_called=v.staff_called,
            elder=v.elder,
            contrast=v.contrast,
            suggest_elder=self._suggest_elder(),
            action=service.action if service else None,
            step=v.step + 1 if step else 0,
            steps=len(service.steps) if service and step else 0,
            ahead=v.ahead,
            rating=v.rating,
            rating_reasons=v.rating_reasons,
            rating_submit_in=self._rating_submit_in(),
        )

    def _suggest_elder(self) -> bool:
        v = self._visit
        if v.elder or v.elder_offered or v.card is None or self.state is not State.CATALOGUE:
            return False
        today, born = self._today(), v.card.birth_date
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        return age >= ELDER_AGE

    def _device_notice_key(self) -> str | None:
        """While the reader is away, the resident waiting for it is told calmly that it is coming
        back (and that staff can help); the notice goes when the reader does."""
        if self.state is State.IDENTIFY and "id_card_reader" in self._devices_down:
            return "device.reader_paused"
        if self.state is State.SCAN and "camera" in self._devices_down:
            return "device.camera_paused"
        return None

    def _warning_seconds(self) -> int | None:
        if self.state not in _WARNED or self._deadline is None:
            return None
        if self.state is State.RATING and self._visit.rating:
            return None  # nothing is lost when a rated visit ends: no "more time?" question
        left = self._deadline - self._clock()
        if left > self.timeouts.warning:
            return None
        return max(0, int(left + 0.999))

    # -- configuration ------------------------------------------------------------------------
    def reconfigure(self, catalogue: Catalogue, timeouts: Timeouts, default_language: str) -> None:
        """A new configuration, taken up between visits (the attract screen, nobody's data)."""
        if self.state is not State.ATTRACT or self.holds_personal_data:
            raise RuntimeError("configuration changes wait for the attract screen")
        self.catalogue, self.timeouts = catalogue, timeouts
        self.default_language = self.language = default_language
        self._restart_timer()

    # -- moving -------------------------------------------------------------------------------
    def tick(self) -> list[Effect]:
        """Call often (a few times a second); ends the step whose time is up."""
        if self._deadline is None or self._clock() < self._deadline:
            return []
        if self.state is State.GOODBYE:
            self._enter(State.ATTRACT)
            return []
        if self.state is State.PROCESSING:
            self._visit.notice_key = "problem.processing_timeout"
            self._enter(State.PROBLEM)
            return []
        if self.state is State.RATING and self._visit.rating:
            return self._rating(SubmitRating())  # a face was tapped: it counts
        return self._end("timeout")

    def handle(self, event: Event) -> list[Effect]:
        if isinstance(event, SyncChanged):
            self._sync = event
            return []
        if isinstance(event, ServicesUnavailable):
            self._unavailable = dict(event.reasons)
            self._devices_down = dict(event.devices_down)
            if self._visit.started is not None:
                self._visit.faults.update(event.devices_down)
            return []
        if isinstance(event, SetLanguage):
            self.language = event.language
            self._restart_timer()
            return []
        if isinstance(event, SetElderMode):
            self._visit.elder, self._visit.elder_offered = event.on, True
            self._restart_timer()
            return []
        if isinstance(event, SetContrast):
            self._visit.contrast = event.on
            self._restart_timer()
            return []
        if isinstance(event, (Recorded, RecordFailed, ReceiptDone, Answered, Unanswered)) and (
            event.visit != self._visit.number
        ):
            return []  # an answer for a visit that has already ended
        effects = self._dispatch(event)
        if isinstance(event, _RESIDENT_EVENTS) and self.state is not State.GOODBYE:
            self._restart_timer()
        return effects

    def _dispatch(self, event: Event) -> list[Effect]:
        s, v = self.state, self._visit
        if isinstance(event, CardRemoved):
            self._card_on_reader = False
            return []
        if isinstance(event, (CardReading, CardRead, CardFailed)):
            self._card_on_reader = True
        if isinstance(event, Suspend):
            return self._suspend()
        if s is State.TECHNICIAN:
            # Cards, taps and late answers wait for the technician to leave; only Resume counts.
            if isinstance(event, Resume):
                self._enter(State.ATTRACT)
            return []
        if isinstance(event, QueueKnown):
            return self._queue_known(event)
        if isinstance(event, Cancel):
            return [] if s in (State.ATTRACT, State.GOODBYE) else self._end("cancelled")
        if isinstance(event, Extend):
            return []
        if isinstance(event, CallStaff):
            return self._call_staff()
        if isinstance(event, (CardReading, CardFailed, CardRead)) and s in _CARD_STATES:
            if s is not State.IDENTIFY:
                self._enter(State.IDENTIFY)  # the next resident need not touch the screen first
                v = self._visit
            if isinstance(event, CardRead):
                return self._card_read(event.card)
            v.reading_card = isinstance(event, CardReading)
            v.notice_key = event.message_key if isinstance(event, CardFailed) else None
            return []
        if isinstance(event, Start) and s is State.ATTRACT:
            self._enter(State.CATALOGUE)
            return []
        if isinstance(event, ChooseService) and s is State.CATALOGUE:
            return self._begin(event.code)
        if isinstance(event, QrScanned) and s is State.SCAN:
            v.scanned = event.text.strip()[:256]
            return self._advance()
        if isinstance(event, ChooseOption) and s is State.CHOOSE:
            service = self._service()
            if service is None or service.option(event.code) is None:
                return []
            v.option = event.code
            return self._advance()
        if isinstance(event, Entered) and s in (State.KEYPAD, State.FEEDBACK):
            step = self._current_step()
            if step is not None:
                v.entered[step.word] = event.value.strip()[:500]
            return self._advance()
        if isinstance(event, Back):
            return self._back()
        if isinstance(event, Confirm) and s is State.CONFIRM:
            return self._advance()
        if s is State.PROCESSING:
            return self._processing(event)
        if s is State.RESULT:
            return self._result(event)
        if isinstance(event, ReceiptDone) and s is State.RATING:
            return self._receipt_done(event)
        if s is State.RATING and isinstance(event, (Rate, PickReason, SubmitRating)):
            return self._rating(event)
        if isinstance(event, Confirm) and s is State.PROBLEM:
            return self._end("cancelled")
        return []

    # -- 好差评 -----------------------------------------------------------------------------------
    def _rating(self, event: Rate | PickReason | SubmitRating) -> list[Effect]:
        """Face, then optional reasons, then 提交 (or the rating submits itself)."""
        v = self._visit
        if isinstance(event, Rate):
            if not 1 <= event.score <= 5:
                return self._end("finished")  # 跳过: no rating, the visit still counts as done
            if reasons_for(event.score) != reasons_for(v.rating or event.score):
                v.rating_reasons = ()  # praise and complaints are different lists
            v.rating = event.score
        elif isinstance(event, PickReason):
            if not v.rating or event.code not in reasons_for(v.rating):
                return []
            picked = v.rating_reasons
            v.rating_reasons = (
                tuple(c for c in picked if c != event.code)
                if event.code in picked
                else (*picked, event.code)
            )
        else:
            if not v.rating:
                return []
            record = recording.rating(v.number, v.visit_id, v.rating, v.service, v.rating_reasons)
            return [record, *self._end("finished")]
        self._restart_timer()
        return []

    def _rating_submit_in(self) -> int | None:
        """Seconds until a tapped face submits itself (None before a face)."""
        if self.state is not State.RATING or not self._visit.rating or self._deadline is None:
            return None
        return max(0, int(self._deadline - self._clock() + 0.999))

    # -- a service's steps ----------------------------------------------------------------------
    def _begin(self, code: str) -> list[Effect]:
        service = self.catalogue.get(code)
        if service is None or code in self._unavailable:
            return []
        v = self._visit
        v.service, v.option, v.step, v.scanned, v.entered = code, None, -1, None, {}
        if service.action == "call_staff":
            return self._call_staff()
        return self._advance()

    def _advance(self) -> list[Effect]:
        """On to the service's next step; past the last one, its action."""
        service, v = self._service(), self._visit
        if service is None:
            return []
        v.step += 1
        while v.step < len(service.steps):
            step = service.steps[v.step]
            if step.kind == "identify" and v.card is not None:
                v.step += 1
                continue
            self._enter(_STEP_STATES[step.kind])
            return []
        return self._act(service)

    def _back(self) -> list[Effect]:
        s, v = self.state, self._visit
        service = self._service()
        if s is State.IDENTIFY and service is None:
            return self._end("cancelled")
        if s not in _STEP_STATES.values() or service is None:
            return []
        step = v.step - 1
        while step >= 0 and service.steps[step].kind == "identify" and v.card is not None:
            step -= 1
        if step < 0:
            v.service, v.option, v.step = None, None, -1
            self._enter(State.CATALOGUE)
            return []
        v.step = step
        self._enter(_STEP_STATES[service.steps[step].kind])
        return []

    def _act(self, service: Service) -> list[Effect]:
        v = self._visit
        self._enter(State.PROCESSING)
        if service.action == "ticket":
            option = service.option(v.option or "")
            prefix = option.prefix if option else ""
            return [
                recording.ticket(
                    v.number, v.visit_id, service.code, v.option or "", prefix, self.language
                )
            ]
        if service.action == "feedback":
            text = v.entered.get("feedback", "")
            phone = v.entered.get("keypad:phone", "")
            return [recording.feedback(v.number, v.visit_id, text, phone, self.language)]
        identifier = v.scanned if "scan" in [s.kind for s in service.steps] else None
        if identifier is None and v.card is not None:
            identifier = v.card.id_number
        query = service.query or service.code
        return [AskPlatform(v.number, query, identifier or "", self.language)]

    def _processing(self, event: Event) -> list[Effect]:
        v, service = self._visit, self._service()
        if service is None:
            return []
        if isinstance(event, Recorded):
            v.ticket, v.uuid, v.created_at = event.ticket, event.uuid, event.created_at
            if service.action == "ticket":
                # The ticket prints once the platform says how many wait ahead (a moment;
                # offline, at once), so paper and screen say the same.
                v.outcome, v.receipt, v.ticket_unprinted = "ticket", "printing", True
                self._enter(State.RESULT)
                return [AskQueue(v.number, event.ticket)]
            if v.outcome == "certificate_recording":  # its reference is on record: print it
                v.outcome, v.receipt = "certificate", "printing"
                self._enter(State.RESULT)
                return [self._answer_receipt("certificate")]
            if v.outcome == "offline_offer":  # the request slip's record is safe: print it
                v.outcome, v.receipt = "slip", "printing"
                v.reference = event.ticket
                self._enter(State.RESULT)
                return [PrintReceipt(v.number, "slip", service.code, self.language,
                                     ticket=event.ticket, uuid=event.uuid,
                                     created_at=event.created_at)]  # fmt: skip
            v.outcome = "feedback" if service.action == "feedback" else "staff"
            self._enter(State.RESULT)
            return []
        if isinstance(event, RecordFailed):
            v.notice_key = "problem.record_failed"
            self._enter(State.PROBLEM)
            return []
        if isinstance(event, (Answered, Unanswered)) and v.outcome == "certificate_recording":
            return []  # answered once already: its certificate is being recorded
        if isinstance(event, Answered):
            v.answer, v.reference = event.lines, event.reference
            found = "certificate" if service.action == "certificate" else "answer"
            v.outcome = {"ok": found, "not_found": "not_found"}.get(event.status, "refused")
            v.reason_key = f"answer.{event.reason}" if event.reason else None
            if event.status == "ok" and service.action == "certificate":
                return self._record_certificate(service)
            self._enter(State.RESULT)
            return []
        if isinstance(event, Unanswered):
            if event.offline and service.offline == "request_slip":
                v.outcome = "offline_offer"
                self._enter(State.RESULT)
            else:
                v.notice_key = "problem.needs_network" if event.offline else "problem.refused"
                self._enter(State.PROBLEM)
            return []
        return []

    def _record_certificate(self, service: Service) -> list[Effect]:
        """A certificate is recorded (reference, kind, masked holder) before it prints, so the
        platform knows every reference on paper; RecordFailed leaves nothing printed."""
        v = self._visit
        if v.card is None:  # a certificate says whose it is: without a card, none is issued
            v.notice_key = "problem.refused"
            self._enter(State.PROBLEM)
            return []
        option = service.option(v.option or "")
        names = option.names if option is not None and option.names else service.names
        titles = (names.get("zh_CN", ""), names.get("en") or names.get("zh_CN", ""))
        # Still processing (the screen says so) until the record is on disk.
        v.outcome, v.reference = "certificate_recording", new_reference()
        return [
            recording.certificate(
                v.number, v.visit_id, service.code, kind=v.option or service.code,
                titles=(titles[0][:64], titles[1][:128]), reference=v.reference,
                holder=(masked_name(v.card.name), masked_id_number(v.card.id_number)),
                language=self.language,
            )
        ]  # fmt: skip

    def _answer_receipt(self, kind: str) -> PrintReceipt:
        v = self._visit
        holder = ""
        if kind == "certificate" and v.card is not None:  # a certificate says whose it is
            holder = f"{masked_name(v.card.name)}  {masked_id_number(v.card.id_number)}"
        return PrintReceipt(v.number, kind, v.service or "", self.language, option=v.option or "",
                            lines=v.answer, reference=v.reference or "", holder=holder,
                            # a certificate's time of issue is its record's, as the platform has it
                            created_at=v.created_at if kind == "certificate" else None,  # type: ignore[arg-type]
                            )  # fmt: skip

    def _result(self, event: Event) -> list[Effect]:
        v = self._visit
        if isinstance(event, ReceiptDone):
            return self._receipt_done(event)
        if isinstance(event, PrintAnswer) and v.outcome == "answer" and v.receipt is None:
            v.receipt = "printing"
            return [self._answer_receipt("answer")]
        if isinstance(event, RequestSlip) and v.outcome == "offline_offer":
            service = self._service()
            self._enter(State.PROCESSING)
            identifier = v.scanned or (v.card.id_number if v.card else "")
            query = service.query if service and service.query else v.service
            return [
                recording.request_slip(
                    v.number, v.visit_id, v.service or "", query or "", identifier, self.language
                )
            ]
        if isinstance(event, Confirm):  # "next"
            if v.outcome == "staff":
                return self._end("finished")
            effects = self._print_ticket() if v.ticket_unprinted else []
            self._enter(State.RATING)
            return effects
        return []

    def _queue_known(self, event: QueueKnown) -> list[Effect]:
        v = self._visit
        if event.visit != v.number or not v.ticket_unprinted:
            return []  # late: the ticket printed without it
        v.ahead = event.ahead
        return self._print_ticket()

    def _print_ticket(self) -> list[Effect]:
        v, service = self._visit, self._service()
        v.ticket_unprinted = False
        return [PrintReceipt(v.number, "ticket", service.code if service else "", self.language,
                             option=v.option or "", ticket=v.ticket or "", uuid=v.uuid or "",
                             created_at=v.created_at, ahead=v.ahead)]  # type: ignore[arg-type]  # fmt: skip

    def _receipt_done(self, event: ReceiptDone) -> list[Effect]:
        v = self._visit
        v.receipt = "printed" if event.ok else "failed"
        v.receipt_key = None if event.ok else event.message_key
        if not event.ok:
            v.faults.add("receipt_printer")
        return []

    def _call_staff(self) -> list[Effect]:
        """Staff are called from any screen and the visit goes on; from the attract screen or
        the catalogue (its tile) the result screen says someone is coming."""
        v = self._visit
        if self.state in (State.GOODBYE, State.TECHNICIAN):
            return []
        effects: list[Effect] = []
        if not v.staff_called:
            effects.append(recording.call_staff(v.number, v.visit_id, self.state.value))
        v.staff_called = True
        if self.state in (State.ATTRACT, State.CATALOGUE) and v.service in (None, "call_staff"):
            v.service, v.outcome = "call_staff", "staff"
            self._enter(State.RESULT)
        return effects

    # -- identification -------------------------------------------------------------------------
    def _card_read(self, card: IdCard) -> list[Effect]:
        v = self._visit
        v.reading_card = False
        if not is_valid_id_number(card.id_number):
            v.notice_key = "card.invalid"
        elif card.is_expired(self._today()):
            v.notice_key = "card.expired"
        else:
            v.card, v.notice_key = card, None
            if self._service() is not None:
                return self._advance()
            self._enter(State.CATALOGUE)
        return []

    # -- ending ---------------------------------------------------------------------------------
    def _suspend(self) -> list[Effect]:
        if self.state is State.TECHNICIAN:
            return []
        effects: list[Effect] = []
        if self.state not in (State.ATTRACT, State.GOODBYE) or self.holds_personal_data:
            effects = self._end("technician")
        self._visit = _Visit(number=self._visit.number)
        self._enter(State.TECHNICIAN)
        return effects

    def _end(self, reason: str) -> list[Effect]:
        """Wipe the resident and say goodbye: nothing personal survives this call."""
        ended = self._visit
        # A drawn ticket always prints, even if the visit ends before the queue's answer.
        effects: list[Effect] = self._print_ticket() if ended.ticket_unprinted else []
        if ended.started is not None:
            effects.append(self._metrics(ended, reason))
        self._visit = _Visit(number=ended.number + 1, end_reason=reason)
        self._enter(State.GOODBYE)
        return [*effects, VisitEnded(ended.number, reason)]

    def _metrics(self, v: _Visit, reason: str) -> RecordTransaction:
        now = self._clock()
        return recording.visit_metrics(
            v.number, v.visit_id,
            service=v.service,
            timings=[*v.timings, (self.state.value, now - v.entered_at)],
            seconds=now - (v.started or now),
            reason=reason,
            ended_at=self.state.value,
            faults=v.faults,
            elder=v.elder,
            language=self.language,
        )  # fmt: skip

    def _enter(self, state: State) -> None:
        v, now = self._visit, self._clock()
        if state is State.ATTRACT:
            self.language = self.default_language
        if self.state is State.GOODBYE:
            self._visit = v = replace(v, end_reason=None)
        if v.started is not None and state is not self.state:
            v.timings.append((self.state.value, now - v.entered_at))
        if v.started is None and state not in (State.ATTRACT, State.GOODBYE, State.TECHNICIAN):
            v.started = now
        if self.state is State.CATALOGUE and state is not State.CATALOGUE:
            v.elder_offered = v.elder_offered or self._suggest_elder()
        v.entered_at = now
        self.state = state
        self._restart_timer()

    def _restart_timer(self) -> None:
        seconds = getattr(self.timeouts, self.state.value, None)
        if self.state is State.RATING and self._visit.rating:
            seconds = RATING_SUBMIT_SECONDS[self._visit.rating]
        if seconds is not None and self._visit.elder and self.state in _WARNED:
            seconds = float(seconds) * ELDER_TIME_FACTOR
        self._deadline = None if seconds is None else self._clock() + float(seconds)
