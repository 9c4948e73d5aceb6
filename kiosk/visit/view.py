"""What the screens render: the visit's state and the view of it (plain data, no Qt).

Kept apart from the events (``kiosk.visit.events``) because the first frame needs only these:
the attract screen paints before the rest of the visit's vocabulary is imported.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class State(enum.Enum):
    ATTRACT = "attract"
    IDENTIFY = "identify"
    CATALOGUE = "catalogue"
    SCAN = "scan"  # show a QR code to the camera
    CHOOSE = "choose"
    KEYPAD = "keypad"  # a number on the on-screen keypad
    FEEDBACK = "feedback"  # a few words on the on-screen keyboard
    CONFIRM = "confirm"
    PROCESSING = "processing"
    RESULT = "result"
    RATING = "rating"
    PROBLEM = "problem"
    GOODBYE = "goodbye"
    # A technician has the terminal (diagnostics mode): no visit can start until they leave.
    TECHNICIAN = "technician"


@dataclass(frozen=True, repr=False)
class AnswerLine:
    label_zh: str
    label_en: str
    value: str

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_zh

    def __repr__(self) -> str:
        return f"AnswerLine({self.label_en!r}, <redacted>)"


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
    unavailable: dict[str, tuple[str, str]] = field(default_factory=dict)
    device_notice_key: str | None = None  # a device this step needs is down; it will come back
    sync_link: str = "unknown"
    sync_waiting: int = 0
    card_reader_down: bool = False  # the ID card reader cannot read now: do not invite a card
    card_left_on_reader: bool = False  # an ended visit's card is still there: ask to take it
    # At a feedback's confirmation: what will be submitted (the phone masked), personal, wiped
    # with the visit like every other field here.
    feedback_text: str = ""
    feedback_phone: str = ""
    # What the result screen shows: ticket, answer, not_found, refused, offline_offer, slip,
    # feedback, staff.
    outcome: str | None = None
    answer: tuple[AnswerLine, ...] = ()
    reference: str | None = None
    reason_key: str | None = None  # why a query found nothing / was refused
    identify_by: tuple[str, ...] = ()  # while identifying for a service: the means it takes
    keypad_kind: str | None = None  # phone or code, while the keypad step shows
    entered: str = ""  # what the keypad / keyboard step holds (shown back to the resident)
    staff_called: bool = False
    elder: bool = False
    contrast: bool = False
    suggest_elder: bool = False  # the card says 60 or older and elder mode is off
    action: str | None = None  # the chosen service's action (ticket, query, ...)
    step: int = 0  # 1-based position among the service's steps (0 outside a service)
    steps: int = 0
    ahead: int | None = None  # people waiting ahead of the ticket (None: not known)
    rating: int = 0  # the face tapped on the rating screen, 0 before one is
    rating_reasons: tuple[str, ...] = ()  # the reason codes picked after it
    rating_submit_in: int | None = None  # seconds until the rating goes in by itself


def ahead_key(ahead: int) -> str:
    """The text key for the people waiting ahead of a ticket: none, one, or a number."""
    return (
        "result.ahead_none" if ahead == 0 else "result.ahead_one" if ahead == 1 else "result.ahead"
    )
