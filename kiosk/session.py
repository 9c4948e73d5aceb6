"""A resident's visit as a Qt-free state machine.

``handle(event)`` moves the visit and returns the effects the controller must carry out (record a
transaction, print a receipt, forget the resident); the machine itself does no I/O, so every path
through a visit, timeouts included, is testable without Qt, devices or a disk.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from drivers.idcard import IdCard, is_valid_id_number

if TYPE_CHECKING:  # settings import pydantic; the session only reads attributes off these
    from kiosk.catalogue import Catalogue
    from kiosk.settings import Timeouts


class State(enum.Enum):
    ATTRACT = "attract"
    IDENTIFY = "identify"
    CATALOGUE = "catalogue"
    CHOOSE = "choose"
    CONFIRM = "confirm"
    PROCESSING = "processing"
    RESULT = "result"
    RATING = "rating"
    PROBLEM = "problem"
    GOODBYE = "goodbye"
    # A technician has the terminal (diagnostics mode): no visit can start until they leave.
    TECHNICIAN = "technician"


# States where the resident is reading or deciding: a warning comes first and one tap extends.
_WARNED = frozenset(
    {State.IDENTIFY, State.CATALOGUE, State.CHOOSE, State.CONFIRM, State.RESULT, State.RATING}
)


# ---- events: what happened ------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """The resident touched the attract screen."""


@dataclass(frozen=True)
class CardReading:
    """The reader found a card and is reading it."""


@dataclass(frozen=True, repr=False)
class CardRead:
    card: IdCard

    def __repr__(self) -> str:
        return "CardRead(<redacted>)"


@dataclass(frozen=True)
class CardFailed:
    message_key: str


@dataclass(frozen=True)
class ChooseService:
    code: str


@dataclass(frozen=True)
class ChooseOption:
    code: str


@dataclass(frozen=True)
class Confirm:
    pass


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Cancel:
    """The resident chose to finish, or staff ended the visit."""


@dataclass(frozen=True)
class Extend:
    """The resident asked for more time."""


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class Recorded:
    visit: int
    uuid: str
    ticket: str
    created_at: datetime


@dataclass(frozen=True)
class RecordFailed:
    visit: int
    detail: str


@dataclass(frozen=True)
class ReceiptDone:
    visit: int
    ok: bool
    message_key: str = ""


@dataclass(frozen=True)
class Rate:
    score: int


@dataclass(frozen=True)
class SyncChanged:
    """How the terminal stands with the platform: shown small in the header, never in the way."""

    link: str  # online, offline, refused, unknown, unconfigured
    waiting: int


@dataclass(frozen=True)
class ServicesUnavailable:
    """Device states changed: these services cannot run now (code -> reason key), and these
    devices are down (device kind -> reason key)."""

    reasons: dict[str, str]
    devices_down: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suspend:
    """A technician takes the terminal: any visit in progress ends, none can start."""


@dataclass(frozen=True)
class Resume:
    """The technician has left: back to attract."""


Event = (
    Start
    | CardReading
    | CardRead
    | CardFailed
    | ChooseService
    | ChooseOption
    | Confirm
    | Back
    | Cancel
    | Extend
    | SetLanguage
    | Recorded
    | RecordFailed
    | ReceiptDone
    | Rate
    | ServicesUnavailable
    | SyncChanged
    | Suspend
    | Resume
)

# States in which a card on the reader starts (or continues) identification.
_CARD_STATES = frozenset({State.ATTRACT, State.IDENTIFY, State.GOODBYE})

# Events a resident causes: each one restarts the current step's timer.
_RESIDENT_EVENTS = (
    Start,
    ChooseService,
    ChooseOption,
    Confirm,
    Back,
    Extend,
    SetLanguage,
    Rate,
    CardRead,
)


# ---- effects: what the controller must do ---------------------------------------------------
@dataclass(frozen=True)
class RecordTransaction:
    visit: int
    service: str
    payload: dict[str, object]
    counter: str | None = None
    counter_format: str = "{}"


@dataclass(frozen=True)
class PrintReceipt:
    visit: int
    service: str
    option: str
    ticket: str
    uuid: str
    created_at: datetime
    language: str


@dataclass(frozen=True)
class VisitEnded:
    """Forget everything about the resident now."""

    visit: int
    reason: str


Effect = RecordTransaction | PrintReceipt | VisitEnded


# ---- what the screens render ----------------------------------------------------------------
@dataclass(frozen=True)
class VisitView:
    state: State
    language: str
    visit: int
    resident_name: str | None = None
    service: str | None = None
    option: str | None = None
    ticket: str | None = None
    created_at: datetime | None = None
    reading_card: bool = False
    notice_key: str | None = None  # a calm message for this step (card not read, ...)
    receipt: str | None = None  # None, "printing", "printed", "failed"
    receipt_key: str | None = None
    end_reason: str | None = None
    warning_seconds: int | None = None  # set while the timeout warning is showing
    unavailable: dict[str, str] = field(default_factory=dict)
    device_notice_key: str | None = None  # a device this step needs is down; it will come back
    sync_link: str = "unknown"
    sync_waiting: int = 0


@dataclass
class _Visit:
    """Everything known about the current resident; replaced wholesale when the visit ends."""

    number: int
    card: IdCard | None = None
    service: str | None = None
    option: str | None = None
    ticket: str | None = None
    uuid: str | None = None
    created_at: datetime | None = None
    reading_card: bool = False
    notice_key: str | None = None
    receipt: str | None = None
    receipt_key: str | None = None
    end_reason: str | None = None


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
        self._unavailable: dict[str, str] = {}
        self._devices_down: dict[str, str] = {}
        self._sync = SyncChanged("unknown", 0)

    # -- reading ------------------------------------------------------------------------------
    @property
    def visit_number(self) -> int:
        return self._visit.number

    @property
    def holds_personal_data(self) -> bool:
        return self._visit.card is not None

    def view(self) -> VisitView:
        v = self._visit
        return VisitView(
            state=self.state,
            language=self.language,
            visit=v.number,
            resident_name=v.card.name if v.card else None,
            service=v.service,
            option=v.option,
            ticket=v.ticket,
            created_at=v.created_at,
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
        )

    def _device_notice_key(self) -> str | None:
        """While the reader is away, the resident waiting for it is told calmly that it is coming
        back (and that staff can help); the notice goes when the reader does."""
        if self.state is State.IDENTIFY and "id_card_reader" in self._devices_down:
            return "device.reader_paused"
        return None

    def _warning_seconds(self) -> int | None:
        if self.state not in _WARNED or self._deadline is None:
            return None
        left = self._deadline - self._clock()
        if left > self.timeouts.warning:
            return None
        return max(0, int(left + 0.999))

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
        return self._end("timeout")

    def handle(self, event: Event) -> list[Effect]:
        if isinstance(event, SyncChanged):
            self._sync = event
            return []
        if isinstance(event, ServicesUnavailable):
            self._unavailable = dict(event.reasons)
            self._devices_down = dict(event.devices_down)
            return []
        if isinstance(event, SetLanguage):
            self.language = event.language
            self._restart_timer()
            return []
        if isinstance(event, (Recorded, RecordFailed, ReceiptDone)) and (
            event.visit != self._visit.number
        ):
            return []  # an answer for a visit that has already ended
        effects = self._dispatch(event)
        if isinstance(event, _RESIDENT_EVENTS) and self.state is not State.GOODBYE:
            self._restart_timer()
        return effects

    def _dispatch(self, event: Event) -> list[Effect]:
        s, v = self.state, self._visit
        if isinstance(event, Suspend):
            return self._suspend()
        if s is State.TECHNICIAN:
            # Cards, taps and late answers wait for the technician to leave; only Resume counts.
            if isinstance(event, Resume):
                self._enter(State.ATTRACT)
            return []
        if isinstance(event, Cancel):
            return [] if s in (State.ATTRACT, State.GOODBYE) else self._end("cancelled")
        if isinstance(event, Extend):
            return []
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
            self._enter(State.IDENTIFY)
            return []
        if isinstance(event, ChooseService) and s is State.CATALOGUE:
            service = self.catalogue.get(event.code)
            if service is None or event.code in self._unavailable:
                return []
            v.service, v.option = service.code, None
            self._enter(State.CHOOSE if service.options else State.CONFIRM)
            return []
        if isinstance(event, ChooseOption) and s is State.CHOOSE:
            service = self.catalogue.get(v.service or "")
            if service is None or service.option(event.code) is None:
                return []
            v.option = event.code
            self._enter(State.CONFIRM)
            return []
        if isinstance(event, Back):
            return self._back()
        if isinstance(event, Confirm) and s is State.CONFIRM:
            return self._confirm()
        if isinstance(event, Recorded) and s is State.PROCESSING:
            v.ticket, v.uuid, v.created_at = event.ticket, event.uuid, event.created_at
            v.receipt = "printing"
            self._enter(State.RESULT)
            return [
                PrintReceipt(
                    v.number,
                    v.service or "",
                    v.option or "",
                    event.ticket,
                    event.uuid,
                    event.created_at,
                    self.language,
                )
            ]
        if isinstance(event, RecordFailed) and s is State.PROCESSING:
            v.notice_key = "problem.record_failed"
            self._enter(State.PROBLEM)
            return []
        if isinstance(event, ReceiptDone) and s in (State.RESULT, State.RATING):
            v.receipt = "printed" if event.ok else "failed"
            v.receipt_key = None if event.ok else event.message_key
            return []
        if isinstance(event, Confirm) and s is State.RESULT:
            self._enter(State.RATING)  # "next" on the result screen
            return []
        if isinstance(event, Rate) and s is State.RATING:
            effects: list[Effect] = []
            if 1 <= event.score <= 5:
                effects.append(
                    RecordTransaction(
                        v.number,
                        "rating",
                        {"score": event.score, "service": v.service, "of": v.uuid},
                    )
                )
            return effects + self._end("finished")
        if isinstance(event, Confirm) and s is State.PROBLEM:
            return self._end("cancelled")
        return []

    def _card_read(self, card: IdCard) -> list[Effect]:
        v = self._visit
        v.reading_card = False
        if not is_valid_id_number(card.id_number):
            v.notice_key = "card.invalid"
        elif card.is_expired(self._today()):
            v.notice_key = "card.expired"
        else:
            v.card, v.notice_key = card, None
            self._enter(State.CATALOGUE)
        return []

    def _back(self) -> list[Effect]:
        s, v = self.state, self._visit
        if s is State.IDENTIFY:
            return self._end("cancelled")
        if s is State.CHOOSE:
            v.option = None
            self._enter(State.CATALOGUE)
        elif s is State.CONFIRM:
            service = self.catalogue.get(v.service or "")
            self._enter(State.CHOOSE if service and service.options else State.CATALOGUE)
        return []

    def _confirm(self) -> list[Effect]:
        v = self._visit
        service = self.catalogue.get(v.service or "")
        if service is None:
            return []
        option = service.option(v.option or "")
        self._enter(State.PROCESSING)
        payload: dict[str, object] = {"option": v.option, "language": self.language}
        prefix = option.prefix if option else ""
        return [
            RecordTransaction(
                v.number,
                service.code,
                payload,
                counter=f"{service.code}:{prefix}",
                counter_format=prefix + "{:03d}",
            )
        ]

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
        ended = self._visit.number
        self._visit = _Visit(number=ended + 1, end_reason=reason)
        self._enter(State.GOODBYE)
        return [VisitEnded(ended, reason)]

    def _enter(self, state: State) -> None:
        if state is State.ATTRACT:
            self.language = self.default_language
        if self.state is State.GOODBYE:
            self._visit = replace(self._visit, end_reason=None)
        self.state = state
        self._restart_timer()

    def _restart_timer(self) -> None:
        seconds = getattr(self.timeouts, self.state.value, None)
        self._deadline = None if seconds is None else self._clock() + float(seconds)
