"""The queue ticket receipt, in Chinese and English, as a printer-independent document."""

from __future__ import annotations

from drivers.receipt import Align, Feed, Qr, Receipt, Rule, Text
from kiosk.session import PrintReceipt
from kiosk.settings import Settings
from kiosk.texts import Texts


def queue_ticket_receipt(job: PrintReceipt, settings: Settings) -> Receipt:
    """No personal data on paper: a receipt left on the counter tells a stranger nothing."""
    zh, en = Texts("zh_CN"), Texts("en")
    option_key = f"option.{job.option}"
    when = job.created_at.strftime("%Y-%m-%d %H:%M")
    return Receipt(
        (
            Text(settings.centre.name_zh, scale=2, bold=True, align=Align.CENTER),
            Text(settings.centre.name_en, align=Align.CENTER),
            Rule(),
            Text(f"{zh('receipt.title')}  {en('receipt.title')}", bold=True, align=Align.CENTER),
            Text(f"{zh('receipt.ticket')} {en('receipt.ticket')}", align=Align.CENTER),
            Text(job.ticket, scale=4, bold=True, align=Align.CENTER),
            Feed(1),
            Text(f"{zh('receipt.window')}: {zh(option_key)}"),
            Text(f"{en('receipt.window')}: {en(option_key)}"),
            Text(f"{zh('receipt.time')} {en('receipt.time')}: {when}"),
            Text(f"{zh('receipt.terminal')} {en('receipt.terminal')}: {settings.central.kiosk_id}"),
            Rule(),
            Qr(settings.receipt_qr.format(uuid=job.uuid, ticket=job.ticket), module_size=6),
            Text(f"{zh('receipt.scan')} / {en('receipt.scan')}", align=Align.CENTER),
            Feed(1),
            Text(zh("receipt.note"), align=Align.CENTER),
            Text(en("receipt.note"), align=Align.CENTER),
        )
    )
