"""What each printed document says of its time and of its holder: a ticket is drawn, a certificate
issued (naming its holder masked), an answer printed, a slip requested."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from contracts.certificates import new_reference
from drivers.idcard import masked_id_number, masked_name
from drivers.receipt import Qr, Text
from drivers.sim_cards import SAMPLE_CARDS
from kiosk.config.settings import Settings, load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.visit import session as s
from kiosk.visit.receipts import receipt_for

WHEN = datetime(2026, 12, 5, 9, 41).astimezone()


def texts(job: s.PrintReceipt) -> list[str]:
    document = receipt_for(job, load_settings(), default_catalogue())
    return [part.text for part in document.elements if isinstance(part, Text)]


@pytest.mark.parametrize(
    ("kind", "says"),
    [("ticket", "取号时间 Ticket drawn"), ("certificate", "出具时间 Issued"),
     ("answer", "打印时间 Printed"), ("slip", "申请时间 Requested")],
)  # fmt: skip
def test_each_document_names_its_time_for_what_it_is(kind: str, says: str) -> None:
    job = s.PrintReceipt(1, kind, "social_security", "zh_CN", option="social_security",
                         ticket="A001", uuid="u", created_at=WHEN)  # fmt: skip
    lines = texts(job)
    assert any(line.startswith(f"{says}: 2026-12-05 09:41") for line in lines), lines
    others = {"取号时间", "出具时间", "打印时间", "申请时间"} - {says.split(maxsplit=1)[0]}
    assert not any(line.startswith(tuple(others)) for line in lines), lines


@pytest.mark.parametrize(
    ("name", "shown"), [("张秀英", "张*英"), ("李娜", "李*"), ("欧阳娜娜", "欧**娜"), ("王", "王")]
)
def test_names_are_masked_as_receipts_print_them(name: str, shown: str) -> None:
    assert masked_name(name) == shown


def test_a_certificate_names_its_holder_masked() -> None:
    """Given a resident who asks for a certificate with their ID card, when the platform answers,
    then the certificate says whose it is, masked: 张*英  1101**********0029."""
    visit = s.VisitSession(default_catalogue(), load_settings().timeouts)
    card = SAMPLE_CARDS[0]
    visit.handle(s.Start())
    visit.handle(s.ChooseService("certificate"))
    visit.handle(s.CardRead(card))
    visit.handle(s.ChooseOption("insured_certificate"))
    visit.handle(s.Confirm())
    visit.handle(s.Answered(1, "ok", (), "Q1"))
    (job,) = visit.handle(s.Recorded(1, "u", "", WHEN))
    assert isinstance(job, s.PrintReceipt) and job.kind == "certificate"
    assert masked_id_number(card.id_number) == "1101**********0029"
    assert "持证人 Holder: 张*英  1101**********0029" in texts(job)
    assert card.id_number not in repr(job) and card.id_number not in " ".join(texts(job))


REFERENCE = new_reference()


def qr_of(job: s.PrintReceipt, settings: Settings) -> str:
    document = receipt_for(job, settings, default_catalogue())
    (qr,) = [part for part in document.elements if isinstance(part, Qr)]
    return qr.data


def certificate(reference: str = REFERENCE) -> s.PrintReceipt:
    return s.PrintReceipt(1, "certificate", "certificate", "zh_CN",
                          option="insured_certificate", reference=reference)  # fmt: skip


@pytest.mark.parametrize(
    ("verify_url", "central_url", "link"),
    [
        (None, "https://platform.example:8700", f"https://platform.example:8700/v/{REFERENCE}"),
        ("https://verify.gov.example/kiosk/", "https://platform.example",
         f"https://verify.gov.example/kiosk/v/{REFERENCE}"),
        ("http://127.0.0.1:8700", None, f"http://127.0.0.1:8700/v/{REFERENCE}"),
        (None, None, REFERENCE),  # no platform known: the reference alone
    ],
)  # fmt: skip
def test_a_certificates_qr_opens_its_verification_page(
    verify_url: str | None, central_url: str | None, link: str
) -> None:
    settings = Settings.model_validate({"verify_url": verify_url, "central": {"url": central_url}})
    assert qr_of(certificate(), settings) == link
    assert f"编号 Reference: {REFERENCE}" in " ".join(
        part.text for part in receipt_for(certificate(), settings, default_catalogue()).elements
        if isinstance(part, Text)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://verify.gov.example", "plain http off loopback"),
        ("ftp://verify.gov.example", r"not an http\(s\) URL"),
        ("https://", r"not an http\(s\) URL"),
        ("https://verify.gov.example/?ref=", "query or fragment"),
        ("https://verify.gov.example:99999", "not a valid URL"),
    ],
)
def test_a_verify_url_a_phone_cannot_trust_is_refused(url: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings.model_validate({"verify_url": url})
