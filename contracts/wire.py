"""The wire format between terminals and the central platform: request and response bodies.

Only pydantic, the standard library and ``drivers.idcard`` (itself standard library only, no Qt:
one ID-number check for the whole product), so a terminal can import the same models (DESIGN.md:
central shares wire models with the terminal, never internals).
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from contracts.canonical import canonical
from contracts.id_number import is_valid_id_number
from contracts.personal import SealedPersonal

# Limits that keep one request's cost bounded; the API enforces them with 4xx, never a 5xx.
MAX_INT64 = 2**63 - 1
MAX_PAYLOAD_BYTES = 64 * 1024  # canonical JSON of one item's payload, UTF-8
MAX_PAYLOAD_DEPTH = 64  # nesting of objects and arrays inside one payload
MAX_ITEMS_CEILING = 10_000  # the API's max_items can be lowered from this, never raised past it

KIOSK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SERVICE_PATTERN = r"^[a-z0-9_.-]{1,64}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Printable text only: these strings are stored as they are, and PostgreSQL refuses NUL.
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"

ItemStatus = Literal["accepted", "duplicate", "conflict", "rejected"]

Printable = Annotated[StrictStr, Field(max_length=128, pattern=PRINTABLE_PATTERN)]


def _whole_number(value: Any) -> Any:
    # JSON Schema's "integer" is any number without a fractional part, 7.0 as well as 7: what
    # the OpenAPI document calls an integer, the API takes. Booleans and strings stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The bounds sit inside, before the validator: outside it pydantic would write them into the
# schema as "ge"/"le", which JSON Schema does not know.
Count = Annotated[StrictInt, Field(ge=0, le=MAX_INT64), BeforeValidator(_whole_number)]
Positive = Annotated[StrictInt, Field(ge=1, le=MAX_INT64), BeforeValidator(_whole_number)]


class WireModel(BaseModel):
    # Unknown fields are ignored, not refused: terminals and the platform are upgraded at different
    # times, and a field added by a newer terminal must not turn its whole queue into dead letters.
    model_config = ConfigDict(extra="ignore")


class BatchItem(WireModel):
    """One transaction as a terminal's outbox sends it."""

    uuid: Annotated[StrictStr, Field(pattern=UUID_PATTERN, description="UUID, any version")]
    seq: Annotated[Positive, Field(description="per-terminal sequence")]
    service: Annotated[StrictStr, Field(pattern=SERVICE_PATTERN)]
    payload: dict[str, Any]
    created_at: Annotated[StrictStr, Field(description="ISO 8601, as the terminal recorded it")]
    # The resident's personal fields, sealed to the platform's personal-data key by the terminal
    # (contracts/personal.py); never in the payload. Terminals before this field sent them in the
    # clear as payload.personal: the platform seals those on arrival or refuses the item.
    sealed: SealedPersonal | None = None


class BatchRequest(WireModel):
    items: Annotated[
        list[BatchItem],
        Field(
            min_length=1,
            max_length=MAX_ITEMS_CEILING,
            description="at most the platform's max_items (1000 unless configured), else 422",
        ),
    ]


class ItemResult(WireModel):
    uuid: str
    status: ItemStatus
    reason: str | None = None


class BatchResponse(WireModel):
    results: list[ItemResult] = Field(description="one per request item, in request order")


class DeviceReport(WireModel):
    name: Printable
    kind: Printable
    driver: Printable
    state: Printable
    fault_code: Printable | None = None


class WorkerReport(WireModel):
    """One supervised worker of the terminal (sync, a device's loop, the embedded platform)."""

    name: Printable
    state: Printable = Field(description="starting, running, restarting or stopped")
    restarts: Count = 0
    fault: Printable | None = Field(None, description="the last crash, e.g. crashed:IndexError")
    fault_at: Printable | None = None


class Heartbeat(WireModel):
    app_version: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=PRINTABLE_PATTERN)]
    devices: Annotated[list[DeviceReport], Field(max_length=64)]
    queue_depth: Count
    sent_at: Annotated[
        StrictStr, Field(max_length=64, description="the terminal's clock, ISO 8601")
    ]
    # Older terminals send none: an empty list, not an error.
    workers: Annotated[list[WorkerReport], Field(max_length=64)] = []
    # The outbox's oldest record still waiting, in seconds (none waiting: null), and the records
    # the platform refused for good: what the operators' alerts watch. Older terminals: absent.
    oldest_waiting_seconds: Annotated[StrictFloat, Field(ge=0, le=10 * 365 * 86400)] | None = None
    dead_letters: Count = 0


class HeartbeatReply(WireModel):
    server_time: str = Field(description="the platform's clock (UTC, ISO 8601), for skew checks")


class StoredTransaction(WireModel):
    uuid: str
    seq: int
    service: str
    payload: dict[str, Any]
    created_at: str
    received_at: str
    # Only whether the platform holds a sealed personal part, never what it holds: what the
    # back office opens with the private key (kiosk-central personal open).
    personal: Literal["sealed", "purged", "unsealed"] | None = Field(
        None,
        description="sealed: personal fields held sealed (only the back office opens them); "
        "purged: retention has removed them; unsealed: received in the clear before the "
        "platform sealed personal data, shown to no one, sealed once a personal-data key is "
        "registered; absent: none",
    )


class TransactionPage(WireModel):
    transactions: list[StoredTransaction]


class Health(WireModel):
    status: str
    db: str


class ErrorBody(WireModel):
    """Every error the platform answers, 4xx or 5xx: a 422 too, never FastAPI's list of
    validation errors, which would repeat the offending input (it may be personal data)."""

    error: str = Field(description="stable machine-readable code, e.g. unauthorized")
    detail: str = Field(
        description="what is wrong, for a person; for invalid_request each problem's location "
        "and message, never the value"
    )


def item_fingerprint(
    service: str, seq: int, payload: Any, created_at: str, sealed: Any = None
) -> str:
    """sha256 hex of what makes a transaction the same one when it is sent again.

    It covers the canonical JSON of ``{created_at, payload, seq, service}``, and ``sealed`` when
    the item has a sealed personal part: a resend carries the same and matches; anything else
    with the same uuid is a conflict. A terminal seals a record once and sends the same sealed
    bytes every time (a fresh seal would differ), so its resends stay duplicates. Without a
    sealed part the fingerprint is what it was before sealing existed, so rows stored then still
    match their resends. Never a hash over personal values: those are guessable (a phone
    number), so the fingerprint covers the ciphertext instead.
    """
    body = {"created_at": created_at, "payload": payload, "seq": seq, "service": service}
    if sealed is not None:
        body["sealed"] = sealed
    return hashlib.sha256(canonical(body)).hexdigest()  # canonical_text's bytes, faster


class ConfigReport(BaseModel):
    """What a terminal did with a configuration bundle."""

    model_config = ConfigDict(extra="ignore")
    # Strict, as the document says integer: true or "7" is refused, not read as 1 or 7 (7.0 is 7).
    version: Positive | None = None  # the bundle the report is about
    running: Positive | None = None  # the version the terminal runs now
    status: Literal["applied", "rejected", "rolled_back"]
    reason: str = Field("", max_length=500)


class ConfigReportReply(BaseModel):
    recorded: bool


# -- online services (central/services.py answers them) ---------------------------------------

ServiceCode = Literal[
    "social_security", "medical_insurance", "housing_fund", "application_progress",
    "appointment_checkin",
]  # fmt: skip
# Looked up by the resident's ID number; the other services by a code the resident scans.
RECORD_SERVICES = frozenset({"social_security", "medical_insurance", "housing_fund"})
MAX_IDENTIFIER_LENGTH = 64  # a scanned code is checked against its format by the platform
MAX_ANSWER_FIELDS = 32
AnswerStatus = Literal["ok", "not_found", "refused"]
# A record service's identifier. JSON Schema has no keyword for a check character, so the
# document states the shape as a pattern and names the check (GB 11643, ISO 7064 MOD 11-2) as
# this format; is_valid_id_number is the rule both sides apply.
ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9Xx]$"
ID_NUMBER_FORMAT = "gb11643-id-number"
# ServiceQuery._identifier_fits_service, as JSON Schema: the OpenAPI document says what it refuses.
_RECORD_IDENTIFIER_RULE: dict[str, Any] = {
    "if": {
        "properties": {"service": {"enum": sorted(RECORD_SERVICES)}},
        "required": ["service"],
    },
    "then": {
        "properties": {"identifier": {"pattern": ID_NUMBER_PATTERN, "format": ID_NUMBER_FORMAT}}
    },
}


class ServiceQuery(BaseModel):
    """A terminal asks the platform for a resident's record or for a scanned code's status."""

    # Strict, unlike WireModel: a live query is answered or refused on the spot, nothing queues
    # behind it, and a field the platform would silently ignore is a bug on one side or the other.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_RECORD_IDENTIFIER_RULE)
    service: ServiceCode
    identifier: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=MAX_IDENTIFIER_LENGTH,
            pattern=r"^[\x21-\x7e]+$",  # printable ASCII, no spaces: every code format fits
            description="the ID number for record services (18 characters with a valid "
            f"check character: {ID_NUMBER_FORMAT}), else the scanned code",
        ),
    ]
    language: Literal["zh_CN", "en"] = "zh_CN"

    @model_validator(mode="after")
    def _identifier_fits_service(self) -> ServiceQuery:
        # The message never repeats the identifier: it may be an ID number, and errors are logged.
        if self.service in RECORD_SERVICES and not is_valid_id_number(self.identifier):
            raise ValueError("identifier must be an 18-character resident ID number")
        return self


class AnswerField(WireModel):
    """One line of an answer, ready for the screen and the receipt: both labels, one value."""

    label_zh: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    label_en: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    value: Annotated[StrictStr, Field(max_length=256, description="in the query's language")]

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh_CN" else self.label_en


class ServiceAnswer(WireModel):
    # Unknown fields are ignored (WireModel): a newer platform may add to an answer.
    status: AnswerStatus
    reason: Annotated[
        str | None,
        Field(
            max_length=64,
            description="stable code when status is not ok: no_record, unknown_code, "
            "not_today, already_checked_in",
        ),
    ] = None
    fields: Annotated[list[AnswerField], Field(max_length=MAX_ANSWER_FIELDS)]
    reference: Annotated[
        StrictStr, Field(max_length=64, description="this answer's number, for the receipt")
    ]

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# -- queue calling (central/queue.py keeps how far each queue has moved) ------------------------

# A ticket is its kind's prefix and its number of the day, at least three digits (A007, A1000),
# as the terminal formats it. The prefix ends in a letter so that a ticket splits one way only:
# were "A1" a prefix, "A1012" could be A1 + 012 or A + 1012.
QUEUE_PREFIX_PATTERN = r"^[A-Z0-9]{0,2}[A-Z]$"
# The number as ticket_text prints it, stated in the pattern so the OpenAPI document refuses what
# split_ticket refuses: 001 to 999 in three digits, 1000 to 999999 without a leading zero.
TICKET_PATTERN = r"^[A-Z0-9]{0,2}[A-Z](00[1-9]|0[1-9][0-9]|[1-9][0-9]{2,5})$"
MAX_TICKET_NUMBER = 999_999
_TICKET_PARTS = re.compile(r"([A-Z0-9]{0,2}[A-Z])([0-9]{3,6})")


def ticket_text(prefix: str, number: int) -> str:
    """The ticket as terminals print it: ``ticket_text("A", 7) == "A007"``."""
    return f"{prefix}{number:03d}"


def split_ticket(ticket: str) -> tuple[str, int]:
    """``("A", 12)`` for ``"A012"``; ValueError for anything a terminal would not print."""
    # fullmatch: in Python's re, TICKET_PATTERN's "$" would let a trailing newline through.
    found = _TICKET_PARTS.fullmatch(ticket)
    if found is None:
        raise ValueError("a ticket is 1 to 3 of A-Z 0-9 ending in a letter, then 3 to 6 digits")
    prefix, number = found.group(1), int(found.group(2))
    # A006 and A0006 are not the same text: only the form a terminal prints names a ticket.
    if number < 1 or ticket_text(prefix, number) != ticket:
        raise ValueError("a ticket's number starts at 001 and has no extra leading zeros")
    return prefix, number


class QueueQuery(BaseModel):
    """A terminal asks how many people wait ahead of a ticket it issued today."""

    # Strict like ServiceQuery: answered on the spot, so a stray field is a bug worth a 422.
    model_config = ConfigDict(extra="forbid")
    ticket: Annotated[StrictStr, Field(pattern=TICKET_PATTERN, description="as printed, e.g. A012")]

    @model_validator(mode="after")
    def _ticket_splits(self) -> QueueQuery:
        split_ticket(self.ticket)
        return self


class QueueAnswer(WireModel):
    ticket: str
    day: str = Field(description="the platform's local date (ISO) the numbers are for")
    serving: int = Field(
        ge=0, description="the number of this prefix called last today; 0 before the first call"
    )
    ahead: int = Field(ge=0, description="tickets before this one not called yet")
    called: bool = Field(description="this ticket's number has been called already")
