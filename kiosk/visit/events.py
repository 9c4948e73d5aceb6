"""The visit's vocabulary: the events that move it and the effects it asks for (what the screens
render is ``kiosk.visit.view``). Plain data, no Qt; ``kiosk.visit.session`` is the machine that
uses them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from drivers.idcard import IdCard
from kiosk.visit.view import AnswerLine


# ---- events: what happened ------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """The resident touched the attract screen."""


@dataclass(frozen=True)
class CardReading:
    """The reader found a card and is reading it."""


@dataclass(frozen=True)
class CardRemoved:
    """The ID card left the reader (the reader sees it go)."""


@dataclass(frozen=True, repr=False)
class CardRead:
    card: IdCard

    def __repr__(self) -> str:
        return "CardRead(<redacted>)"


@dataclass(frozen=True)
class CardFailed:
    message_key: str


@dataclass(frozen=True, repr=False)
class QrScanned:
    """The camera decoded a QR code while the scan step was showing."""

    text: str

    def __repr__(self) -> str:
        return "QrScanned(<redacted>)"


@dataclass(frozen=True)
class ChooseService:
    code: str


@dataclass(frozen=True)
class ChooseOption:
    code: str


@dataclass(frozen=True, repr=False)
class Entered:
    """The resident finished the keypad or keyboard step (an empty value skips an optional one)."""

    value: str

    def __repr__(self) -> str:
        return "Entered(<redacted>)"


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
class SetElderMode:
    on: bool


@dataclass(frozen=True)
class SetContrast:
    """The high-contrast theme, for this visit."""

    on: bool


@dataclass(frozen=True)
class CallStaff:
    """ "Call staff", from any screen: someone comes to the terminal; the visit goes on."""


@dataclass(frozen=True)
class PrintAnswer:
    """The resident asked for the answer on paper (never printed unasked: it is personal)."""


@dataclass(frozen=True)
class RequestSlip:
    """Offline, the resident accepted a printed request slip for an online query."""


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
class Answered:
    """The platform answered a query: ``ok``, ``not_found`` or ``refused`` with a reason code."""

    visit: int
    status: str
    lines: tuple[AnswerLine, ...]
    reference: str
    reason: str = ""


@dataclass(frozen=True)
class Unanswered:
    """The platform could not be asked (offline) or would not answer (refused the request)."""

    visit: int
    offline: bool


@dataclass(frozen=True)
class QueueKnown:
    """How many wait ahead of this visit's ticket, or None when the platform could not say
    (offline, an older platform): the ticket prints either way."""

    visit: int
    ahead: int | None


@dataclass(frozen=True)
class ReceiptDone:
    visit: int
    ok: bool
    message_key: str = ""


@dataclass(frozen=True)
class Rate:
    """A face (1 非常不满意 .. 5 非常满意) was tapped; 0 skips the rating."""

    score: int


@dataclass(frozen=True)
class PickReason:
    """A reason chip was tapped after the face: on if it was off, off if it was on."""

    code: str


@dataclass(frozen=True)
class SubmitRating:
    """提交: the face and the reasons picked go in now (else they go in by themselves)."""


@dataclass(frozen=True)
class SyncChanged:
    """How the terminal stands with the platform: shown small in the header, never in the way."""

    link: str  # online, offline, refused, unknown, unconfigured
    waiting: int


@dataclass(frozen=True)
class ServicesUnavailable:
    """Device states changed: these services cannot run now (code -> (reason key, alternative
    key)), and these devices are down (device kind -> reason key)."""

    reasons: dict[str, tuple[str, str]]
    devices_down: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suspend:
    """A technician takes the terminal: any visit in progress ends, none can start."""


@dataclass(frozen=True)
class Resume:
    """The technician has left: back to attract."""


Event = (
    Start | CardReading | CardRead | CardFailed | CardRemoved | QrScanned | ChooseService
    | ChooseOption
    | Entered | Confirm | Back | Cancel | Extend | SetLanguage | SetElderMode | SetContrast
    | CallStaff
    | PrintAnswer | RequestSlip | Recorded | RecordFailed | Answered | Unanswered | ReceiptDone
    | QueueKnown | Rate | PickReason | SubmitRating | ServicesUnavailable | SyncChanged | Suspend
    | Resume
)  # fmt: skip


# ---- effects: what the controller must do ---------------------------------------------------
@dataclass(frozen=True)
class RecordTransaction:
    visit: int
    service: str
    payload: dict[str, object]
    counter: str | None = None
    counter_format: str = "{}"
    personal: dict[str, object] | None = None  # sealed in the outbox, purged after delivery
    # Whether the session waits for Recorded/RecordFailed (a ticket number, a request slip).
    answer: bool = False


@dataclass(frozen=True, repr=False)
class AskPlatform:
    visit: int
    query: str  # the platform's service code
    identifier: str  # personal: an ID number or a scanned code
    language: str

    def __repr__(self) -> str:
        return f"AskPlatform({self.visit}, {self.query!r}, <redacted>)"


@dataclass(frozen=True)
class AskQueue:
    """Ask the platform how many wait ahead of a ticket just drawn (answered by QueueKnown)."""

    visit: int
    ticket: str


@dataclass(frozen=True, repr=False)
class PrintReceipt:
    """A document for the printer; ``kind`` says which (ticket, answer, certificate, slip)."""

    visit: int
    kind: str
    service: str
    language: str
    option: str = ""
    ticket: str = ""
    uuid: str = ""
    created_at: datetime | None = None
    lines: tuple[AnswerLine, ...] = ()
    reference: str = ""
    holder: str = ""  # a certificate's holder, masked (张*英  1101**********0022)
    ahead: int | None = None  # a ticket: how many wait ahead of it, when the platform said

    def __repr__(self) -> str:
        return f"PrintReceipt({self.visit}, {self.kind!r}, {self.service!r})"


@dataclass(frozen=True)
class VisitEnded:
    """Forget everything about the resident now."""

    visit: int
    reason: str


Effect = RecordTransaction | AskPlatform | AskQueue | PrintReceipt | VisitEnded
