"""The records a visit leaves: their schemas, one per kind, the contract between the terminal that
writes them and whoever aggregates them (the operators' console, outside tools).

Each record is one outbox transaction: ``service`` is the transaction's service code (the
catalogue's code for a service's own record, else the kind's name) and ``payload`` is one of the
models below, told apart by its ``record`` field. The records of one visit share an anonymous
``visit_id`` (random, drawn when the visit starts, tied to no person and no card). Nothing here
ever holds a personal value: what is personal travels sealed beside the payload
(``personal``, see README "Offline queue and sync") and is not part of this contract.

A reader must ignore fields it does not know (a newer terminal may add some) and may meet records
without ``record`` or ``visit_id``: terminals before version 0.2 wrote the same payloads without
them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.certificates import MASKED_ID_PATTERN, MASKED_NAME_PATTERN, REFERENCE_PATTERN

Language = Literal["zh_CN", "en"]
Code = Annotated[str, Field(pattern=r"^[a-z0-9_.:-]{1,64}$")]
VisitId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="anonymous, per visit")]
Seconds = Annotated[float, Field(ge=0)]


class VisitRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    visit_id: VisitId

    def payload(self) -> dict[str, Any]:
        """The transaction's payload: the record as JSON, absent fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


class TicketRecord(VisitRecord):
    """A queue ticket was drawn (a service whose action is ``ticket``)."""

    record: Literal["ticket"] = "ticket"
    option: Code = Field(description="the kind of window chosen")
    language: Language
    ticket: str | None = Field(
        None, description="the number (A007): drawn by the outbox in the same commit"
    )


class QueryRequestRecord(VisitRecord):
    """An online service asked while the platform was unreachable: a request slip was printed and
    the platform answers later. The identifier asked about is sealed, not here."""

    record: Literal["query_request"] = "query_request"
    query: Code = Field(description="the platform's service code, e.g. social_security")
    language: Language
    ticket: str | None = Field(None, description="the slip's number (R0001), drawn by the outbox")


class CertificateRecord(VisitRecord):
    """A certificate was issued: recorded before it prints, so no paper carries a reference the
    platform will not know. The holder is here only as the paper shows it, masked (the one
    exception to "nothing personal": it is what the public verification page shows, and its
    pattern cannot hold a whole name or ID number)."""

    record: Literal["certificate"] = "certificate"
    kind: Code = Field(description="the certificate's option code, e.g. insured_certificate")
    title_zh: str = Field(max_length=64, description="the kind as the paper names it, Chinese")
    title_en: str = Field(max_length=128, description="the kind as the paper names it, English")
    reference: str = Field(
        pattern=REFERENCE_PATTERN, description="what the QR code and the verification page carry"
    )
    holder_name: str = Field(pattern=MASKED_NAME_PATTERN, description="masked: 张*英")
    holder_id: str = Field(pattern=MASKED_ID_PATTERN, description="masked: 1101**********0029")
    language: Language


class FeedbackRecord(VisitRecord):
    """A resident left feedback; the text and the phone number are sealed, not here."""

    record: Literal["feedback"] = "feedback"
    language: Language
    has_text: bool
    has_phone: bool


class CallStaffRecord(VisitRecord):
    """A resident asked for a member of staff."""

    record: Literal["call_staff"] = "call_staff"
    state: Code = Field(description="the screen the resident was on")


# 好差评 reasons a resident may pick after the face: what went well for 满意 and 非常满意, what
# went wrong for the rest. Fixed codes, so every terminal's ratings add up on the console; four
# of each, the most one elder-mode screen shows.
PRAISE_REASONS = ("quick", "easy", "clear", "done")
COMPLAINT_REASONS = ("wait", "hard", "device", "result")
RatingReason = Literal["quick", "easy", "clear", "done", "wait", "hard", "device", "result"]


def reasons_for(score: int) -> tuple[str, ...]:
    """The reasons offered after *score*: praise for 4 and 5, complaints for 1 to 3."""
    return PRAISE_REASONS if score >= 4 else COMPLAINT_REASONS


class RatingRecord(VisitRecord):
    """好差评: the resident's rating of the service they used, 1 (非常不满意) to 5 (非常满意).

    Earlier terminals wrote one free ``reason`` string instead of ``reasons``: readers ignore it."""

    record: Literal["rating"] = "rating"
    score: int = Field(ge=1, le=5)
    service: Code | None = Field(None, description="the catalogue code of the service rated")
    reasons: list[RatingReason] | None = Field(
        None, max_length=4, description="reasons picked after the face, none if none were"
    )


class StepTime(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    step: Code = Field(description="the visit state (identify, catalogue, choose ...)")
    seconds: Seconds


EndReason = Literal["finished", "cancelled", "timeout", "technician"]


class VisitMetricsRecord(VisitRecord):
    """One per visit, when it ends: what was used, how long each step took, whether it got done."""

    record: Literal["visit_metrics"] = "visit_metrics"
    service: Code | None = Field(None, description="the service used, none if none was chosen")
    steps: list[StepTime]
    seconds: Seconds = Field(description="the whole visit")
    completed: bool = Field(description="done in this visit (一次办成)")
    ended: EndReason = Field(description="why the visit ended")
    ended_at: Code = Field(description="the state it ended in")
    faults: list[str] = Field(description="device faults met, as device/code")
    elder: bool = Field(description="elder mode was on")
    language: Language


RECORDS: dict[str, type[VisitRecord]] = {
    "ticket": TicketRecord,
    "query_request": QueryRequestRecord,
    "certificate": CertificateRecord,
    "feedback": FeedbackRecord,
    "call_staff": CallStaffRecord,
    "rating": RatingRecord,
    "visit_metrics": VisitMetricsRecord,
}


def parse_record(payload: dict[str, Any]) -> VisitRecord:
    """The record in a transaction's payload (pydantic's ValidationError when it is none)."""
    kind = payload.get("record")
    model = RECORDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValueError(f"not a visit record: record={kind!r}")
    return model.model_validate(payload)


def json_schemas() -> dict[str, Any]:
    """Every record's JSON Schema, by kind: for outside tools (docs/visit-records.schema.json)."""
    return {kind: model.model_json_schema() for kind, model in RECORDS.items()}


if __name__ == "__main__":  # python -m contracts.records > docs/visit-records.schema.json
    import json

    print(json.dumps(json_schemas(), indent=2, ensure_ascii=False, sort_keys=True))
