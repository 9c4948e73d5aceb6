"""What the terminal prints, in Chinese and English, as printer-independent documents: the
queue ticket, a query's answer (only when the resident asks), a certificate with a verification
QR code, and the request slip an online query leaves when the platform cannot be reached."""

from __future__ import annotations

from datetime import datetime

from contracts.catalogue import Catalogue
from contracts.certificates import verify_link
from drivers.receipt import Align, Element, Feed, Qr, Receipt, Rule, Text
from kiosk.config.settings import Settings
from kiosk.texts import Texts
from kiosk.visit.session import PrintReceipt
from kiosk.visit.view import ahead_key


def _header(settings: Settings, zh: Texts, en: Texts, title: str) -> list[Element]:
    return [
        Text(settings.centre.name_zh, scale=2, bold=True, align=Align.CENTER),
        Text(settings.centre.name_en, align=Align.CENTER),
        Rule(),
        Text(f"{zh(title)}  {en(title)}", bold=True, align=Align.CENTER),
    ]


def _footer(
    settings: Settings, zh: Texts, en: Texts, when: datetime | None, label: str
) -> list[Element]:
    """When and where; *label* says what the time is (a ticket drawn, a certificate issued)."""
    moment = (when or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M")
    return [
        Text(f"{zh(label)} {en(label)}: {moment}"),
        Text(f"{zh('receipt.terminal')} {en('receipt.terminal')}: {settings.central.kiosk_id}"),
    ]


def receipt_for(job: PrintReceipt, settings: Settings, catalogue: Catalogue) -> Receipt:
    zh = Texts("zh_CN", catalogue.texts("zh_CN"))
    en = Texts("en", catalogue.texts("en"))
    if job.kind == "ticket":
        return queue_ticket_receipt(job, settings, zh, en)
    if job.kind == "slip":
        return _slip(job, settings, zh, en)
    return _answer(job, settings, zh, en)


def _ahead(job: PrintReceipt, zh: Texts, en: Texts) -> list[Element]:
    """How many waited ahead when the ticket printed, in both languages (unknown: no line)."""
    if job.ahead is None:
        return []
    key = ahead_key(job.ahead)
    return [
        Text(zh(key, count=job.ahead), align=Align.CENTER),
        Text(en(key, count=job.ahead), align=Align.CENTER),
    ]


def queue_ticket_receipt(
    job: PrintReceipt, settings: Settings, zh: Texts | None = None, en: Texts | None = None
) -> Receipt:
    """No personal data on paper: a receipt left on the counter tells a stranger nothing."""
    zh, en = zh or Texts("zh_CN"), en or Texts("en")
    option_key = f"option.{job.option}"
    return Receipt(
        (
            *_header(settings, zh, en, "receipt.title"),
            Text(f"{zh('receipt.ticket')} {en('receipt.ticket')}", align=Align.CENTER),
            Text(job.ticket, scale=4, bold=True, align=Align.CENTER),
            *_ahead(job, zh, en),
            Feed(1),
            Text(f"{zh('receipt.window')}: {zh(option_key)}"),
            Text(f"{en('receipt.window')}: {en(option_key)}"),
            *_footer(settings, zh, en, job.created_at, "receipt.time"),
            Rule(),
            Qr(settings.receipt_qr.format(uuid=job.uuid, ticket=job.ticket), module_size=6),
            Text(f"{zh('receipt.scan')} / {en('receipt.scan')}", align=Align.CENTER),
            Feed(1),
            Text(zh("receipt.note"), align=Align.CENTER),
            Text(en("receipt.note"), align=Align.CENTER),
        )
    )


def _answer(job: PrintReceipt, settings: Settings, zh: Texts, en: Texts) -> Receipt:
    """A query's answer or a certificate: the lines the platform sent, in the resident's
    language first. The resident asked for it (or for the certificate): it is theirs to take."""
    service = f"service.{job.service}.name"
    title = f"option.{job.option}" if job.kind == "certificate" and job.option else service
    parts: list[Element] = [*_header(settings, zh, en, title)]
    if job.holder:
        parts.append(Text(f"{zh('receipt.holder')} {en('receipt.holder')}: {job.holder}"))
    for line in job.lines:
        parts.append(Text(f"{line.label_zh} {line.label_en}: {line.value}"))
    issued = "receipt.time_issued" if job.kind == "certificate" else "receipt.time_printed"
    parts += [Rule(), *_footer(settings, zh, en, job.created_at, issued)]
    parts.append(Text(f"{zh('receipt.reference')} {en('receipt.reference')}: {job.reference}"))
    if job.kind == "certificate":
        # Without a known platform (it answered, so rarely), the reference alone.
        base = settings.verify_base()
        link = verify_link(base, job.reference) if base else job.reference
        parts += [
            Qr(link, module_size=6),
            Text(zh("receipt.verify"), align=Align.CENTER),
            Text(en("receipt.verify"), align=Align.CENTER),
        ]
    return Receipt(tuple(parts))


def _slip(job: PrintReceipt, settings: Settings, zh: Texts, en: Texts) -> Receipt:
    """Offline: the request is recorded and goes to the platform with the next sync; the slip
    says what was asked and how the answer will come. Nothing personal on it."""
    service = f"service.{job.service}.name"
    return Receipt(
        (
            *_header(settings, zh, en, "receipt.slip_title"),
            Text(f"{zh(service)} / {en(service)}", align=Align.CENTER),
            Text(job.ticket, scale=3, bold=True, align=Align.CENTER),
            Feed(1),
            Text(zh("receipt.slip_how")),
            Text(en("receipt.slip_how")),
            *_footer(settings, zh, en, job.created_at, "receipt.time_requested"),
            Rule(),
            Qr(settings.receipt_qr.format(uuid=job.uuid, ticket=job.ticket), module_size=6),
        )
    )
