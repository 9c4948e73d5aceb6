"""The public verification of printed certificates: the page a certificate's QR code opens
(``/v/{reference}``, Chinese with English, no token, nothing from outside the platform) and its
JSON twin (``/v1/certificates/{reference}``, in the OpenAPI document), from one look-up
(central/certificate_register.py). Both say valid or not, the kind and the time of issue, and
the holder masked as the paper shows it: nothing the paper does not already say.

The page is a few lines of HTML made here with every value escaped, rather than a template
engine: the platform needs no new dependency for one page.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from central import certificate_register as certificates
from central.api import ERRORS, Context
from contracts.certificates import REFERENCE_PATTERN
from contracts.wire import ErrorBody

router = APIRouter()

# Public pages: no caching by whoever sits between (a proxy must not answer "valid" from its
# memory), no indexing, nothing loaded from elsewhere, no framing.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}
MAX_TYPED = 120  # a reference typed by hand, with hyphens and spaces; longer is not one


class Titles(BaseModel):
    zh_CN: str
    en: str


class Holder(BaseModel):
    name: str = Field(description="masked, as the certificate prints it: 张*英")
    id_number: str = Field(description="masked: 1101**********0029")


class CertificateCheck(BaseModel):
    """A valid certificate: what its paper says, so the reader can compare."""

    valid: Literal[True] = True
    reference: str
    kind: str = Field(description="the kind's code, e.g. insured_certificate")
    title: Titles = Field(description="the kind as the certificate names it")
    issued_at: str = Field(description="when the terminal issued it (ISO 8601, its offset)")
    holder: Holder


def _check(found: certificates.Certificate) -> CertificateCheck:
    return CertificateCheck(
        reference=found.reference, kind=found.kind,
        title=Titles(zh_CN=found.title_zh, en=found.title_en), issued_at=found.issued_at,
        holder=Holder(name=found.holder_name, id_number=found.holder_id),
    )  # fmt: skip


REFUSED = {
    "malformed": "this is not a certificate reference, or it was altered: its check digits do "
    "not match",
    "unknown": "no certificate has this reference",
}


@router.get(
    "/v1/certificates/{reference}",
    response_model=CertificateCheck,
    responses={
        404: {
            "model": ErrorBody,
            "description": "not a certificate the platform issued: unknown (forged), or its "
            "check digits fail (altered or mistyped)",
        },
        **{status: ERRORS[status] for status in (422, 503)},
    },
    summary="Verify a printed certificate's reference (public: no token)",
)
def get_certificate(
    reference: Annotated[
        str, Path(pattern=REFERENCE_PATTERN, description="as the certificate's QR code carries it")
    ],
    context: Context,
) -> CertificateCheck:
    with context.store._read() as conn:
        found = certificates.look_up(conn, reference)
    if isinstance(found, str):
        raise HTTPException(404, REFUSED[found])
    return _check(found)


@router.get("/v/{reference}", include_in_schema=False, response_class=HTMLResponse)
def verification_page(reference: str, context: Context) -> HTMLResponse:
    """The page a certificate's QR code opens; typed references may be lower case, with
    hyphens or spaces."""
    if len(reference) > MAX_TYPED:
        found: certificates.Certificate | str = "malformed"
    else:
        with context.store._read() as conn:
            found = certificates.look_up(conn, reference)
    if isinstance(found, str):
        return HTMLResponse(_refused_page(reference[:MAX_TYPED], found), 404, PAGE_HEADERS)
    return HTMLResponse(_valid_page(found), 200, PAGE_HEADERS)


# -- the page -----------------------------------------------------------------------------------

STYLE = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",
sans-serif;margin:0;background:#f4f6f8;color:#1a1a1a;line-height:1.5}
main{max-width:36rem;margin:0 auto;padding:1.5rem 1.25rem}
h1{font-size:1.25rem;margin:0 0 1rem}
.verdict{border-radius:.75rem;padding:1.25rem;margin-bottom:1.25rem;color:#fff}
.valid{background:#1b6e3a}.refused{background:#a61b1b}
.verdict strong{display:block;font-size:1.6rem}
dl{background:#fff;border-radius:.75rem;padding:1rem 1.25rem;margin:0}
dt{color:#555;font-size:.9rem;margin-top:.75rem}dt:first-child{margin-top:0}
dd{margin:0;font-size:1.15rem;word-break:break-all}
.en{color:#555;font-size:.95rem}p{margin:.75rem 0}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>"
        f'<body><main><h1>证明核验 <span class="en">Certificate verification</span></h1>'
        f"{body}</main></body></html>\n"
    )


def _row(zh: str, en: str, value: str, value_en: str | None = None) -> str:
    e = html.escape
    second = f'<br><span class="en">{e(value_en)}</span>' if value_en else ""
    return f'<dt>{e(zh)} <span class="en">{e(en)}</span></dt><dd>{e(value)}{second}</dd>'


def _issued(stamp: str) -> str:
    """The time as the certificate prints it (the terminal's local time), with its offset."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    offset = moment.strftime(" (UTC%z)") if moment.tzinfo else ""
    return moment.strftime("%Y-%m-%d %H:%M") + offset


def _valid_page(found: certificates.Certificate) -> str:
    rows = "".join(
        (
            _row("证明类型", "Kind", found.title_zh, found.title_en),
            _row("出具时间", "Issued", _issued(found.issued_at)),
            _row("持证人", "Holder", f"{found.holder_name}  {found.holder_id}"),
            _row("证明编号", "Reference", found.reference),
        )
    )
    body = (
        '<div class="verdict valid" id="verdict" data-valid="true"><strong>有效证明</strong>'
        "Valid certificate</div>"
        f"<dl>{rows}</dl>"
        "<p>请核对纸面上的持证人、证明类型和出具时间与此页一致。"
        '<br><span class="en">Check that the holder, kind and time of issue on the paper match '
        "this page.</span></p>"
    )
    return _page("有效证明 Valid certificate", body)


def _refused_page(typed: str, why: str) -> str:
    reason_zh, reason_en = {
        "malformed": ("这不是有效的证明编号，或编号已被改动。",
                      "This is not a certificate reference, or it has been altered."),
        "unknown": ("查无此证明：本平台未出具过此编号的证明。",
                    "No certificate with this reference was issued by this platform."),
    }[why]  # fmt: skip
    body = (
        '<div class="verdict refused" id="verdict" data-valid="false"><strong>无效</strong>'
        "Not valid</div>"
        f"<dl>{_row('证明编号', 'Reference', typed)}</dl>"
        f'<p>{html.escape(reason_zh)}<br><span class="en">{html.escape(reason_en)}</span></p>'
        "<p>此证明不能作为凭据。如有疑问，请到社区服务中心人工窗口咨询。"
        '<br><span class="en">Do not accept this certificate. Ask at a staffed window of the '
        "community service centre.</span></p>"
    )
    return _page("无效 Not valid", body)
