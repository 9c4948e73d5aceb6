"""What a visit writes down: each record (contracts/records.py) as the effect that puts it in the
outbox, with its sealed personal part where it has one. The session decides when; this says what.
"""

from __future__ import annotations

from contracts.records import (
    CallStaffRecord,
    CertificateRecord,
    FeedbackRecord,
    QueryRequestRecord,
    RatingRecord,
    StepTime,
    TicketRecord,
    VisitMetricsRecord,
)
from kiosk.visit.events import RecordTransaction


def ticket(
    visit: int, visit_id: str, service: str, option: str, prefix: str, language: str
) -> RecordTransaction:
    """A queue ticket; the outbox draws its number (A007) from the day's counter in one commit."""
    record = TicketRecord(visit_id=visit_id, option=option, language=language)
    return RecordTransaction(
        visit, service, record.payload(),
        counter=f"{service}:{prefix}", counter_format=prefix + "{:03d}", answer=True,
    )  # fmt: skip


def feedback(visit: int, visit_id: str, text: str, phone: str, language: str) -> RecordTransaction:
    """Feedback: the payload says only whether there is a text and a phone; both are sealed."""
    personal: dict[str, object] = {"phone": phone} if phone else {}
    if text:
        personal["text"] = text
    record = FeedbackRecord(
        visit_id=visit_id,
        language=language,
        has_text=bool(text),
        has_phone=bool(phone),
    )
    return RecordTransaction(
        visit, "feedback", record.payload(), personal=personal or None, answer=True
    )


def request_slip(
    visit: int, visit_id: str, service: str, query: str, identifier: str, language: str
) -> RecordTransaction:
    """An online service asked offline: a numbered slip (R0001); what was asked about is sealed."""
    record = QueryRequestRecord(visit_id=visit_id, query=query, language=language)
    return RecordTransaction(
        visit, "query_request", record.payload(),
        counter=f"slip:{service}", counter_format="R{:04d}",
        personal={"identifier": identifier}, answer=True,
    )  # fmt: skip


def certificate(
    visit: int,
    visit_id: str,
    service: str,
    *,
    kind: str,
    titles: tuple[str, str],
    reference: str,
    holder: tuple[str, str],
    language: str,
) -> RecordTransaction:
    """A certificate about to print: its reference, kind and masked holder, as the paper shows
    them, for the platform's verification page. Recorded first, printed once on disk."""
    record = CertificateRecord(
        visit_id=visit_id, kind=kind, title_zh=titles[0], title_en=titles[1],
        reference=reference, holder_name=holder[0], holder_id=holder[1], language=language,
    )  # fmt: skip
    return RecordTransaction(visit, service, record.payload(), answer=True)


def call_staff(visit: int, visit_id: str, state: str) -> RecordTransaction:
    record = CallStaffRecord(visit_id=visit_id, state=state)
    return RecordTransaction(visit, "call_staff", record.payload())


def rating(
    visit: int, visit_id: str, score: int, service: str | None, reasons: tuple[str, ...]
) -> RecordTransaction:
    """好差评: the score and the reasons the resident picked, if any (codes, never words)."""
    record = RatingRecord(
        visit_id=visit_id,
        score=score,
        service=service,
        reasons=list(reasons) or None,
    )
    return RecordTransaction(visit, "rating", record.payload())


def visit_metrics(
    visit: int,
    visit_id: str,
    *,
    service: str | None,
    timings: list[tuple[str, float]],
    seconds: float,
    reason: str,
    ended_at: str,
    faults: set[str],
    elder: bool,
    language: str,
) -> RecordTransaction:
    """Anonymous: the service, the steps with their seconds, where it ended, faults met."""
    record = VisitMetricsRecord(
        visit_id=visit_id,
        service=service,
        steps=[StepTime(step=name, seconds=round(sec, 1)) for name, sec in timings],
        seconds=round(seconds, 1),
        completed=reason == "finished",
        ended=reason,
        ended_at=ended_at,
        faults=sorted(faults),
        elder=elder,
        language=language,
    )
    return RecordTransaction(visit, "visit_metrics", record.payload())
