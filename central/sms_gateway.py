"""Where the back office's text messages go: one small interface (``send``) and two gateways, an
HTTP provider (a configurable URL and body template) and a log-only one for tests and demos.

A failed send is an ``SmsError`` that says whether trying again may help (a timeout, a refused
connection, HTTP 429 or 5xx) or not (any other answer: the provider refused this message); the
slips worker (central/slips.py) schedules the retries and records the result. Error messages
name the URL's host and the HTTP status, never the number or the text sent.
"""

from __future__ import annotations

import json
import ssl
import string
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

DEFAULT_TEMPLATE = '{"to": $phone, "text": $text, "reference": $reference}'
TEMPLATE_FIELDS = ("phone", "text", "reference")


class SmsError(Exception):
    """A message was not sent; *transient*: the same message may go through later."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class SmsMessage:
    """One message. *reference* (kiosk/uuid of the slip) lets a provider drop a repeat."""

    phone: str = field(repr=False)
    text: str = field(repr=False)
    reference: str


class SmsGateway(Protocol):
    name: str

    def send(self, message: SmsMessage) -> str:
        """Send *message*; what the gateway answered, in a few words (no personal value), or
        SmsError."""
        ...


class LogGateway:
    """Sends nothing: writes each message, phone number and text included, as one JSON line to
    *out*. For tests and demos only, and only when chosen by name (``--gateway log``): it is the
    one place the back office writes a resident's number and answer in the clear."""

    name = "log"
    NOTE = "log gateway: for tests and demos only, nothing was sent"

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    def send(self, message: SmsMessage) -> str:
        line = {"gateway": "log", "note": self.NOTE, "reference": message.reference,
                "to": message.phone, "text": message.text}  # fmt: skip
        self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.out.flush()
        return "logged, not sent"


class HttpGateway:
    """POSTs each message to an SMS provider's URL. The body is *template* with ``$phone``,
    ``$text`` and ``$reference`` replaced by JSON strings, so a provider's own JSON layout can
    be written as it is (``{"mobile": $phone, "content": $text}``)."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        template: str = DEFAULT_TEMPLATE,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        ca_file: Path | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the SMS provider's URL {url!r} is not an http(s) URL")
        self.url, self.timeout = url, timeout
        self.where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        self.template = check_template(template)
        self.headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    def body(self, message: SmsMessage) -> bytes:
        return render(self.template, message).encode("utf-8")

    def send(self, message: SmsMessage) -> str:
        request = urllib.request.Request(
            self.url, data=self.body(message), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as r:
                r.read(65536)
                return f"HTTP {r.status} from {self.where}"
        except urllib.error.HTTPError as exc:
            exc.close()
            transient = exc.code == 429 or exc.code >= 500
            raise SmsError(f"HTTP {exc.code} from {self.where}", transient=transient) from None
        except TimeoutError:
            raise SmsError(
                f"no answer from {self.where} in {self.timeout:g} s", transient=True
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                detail = f"certificate not trusted: {reason.verify_message}"
            elif isinstance(reason, TimeoutError):
                detail = f"no answer in {self.timeout:g} s"
            else:
                detail = str(getattr(reason, "strerror", None) or reason)
            raise SmsError(f"cannot reach {self.where}: {detail}", transient=True) from None
        except (ConnectionError, OSError) as exc:  # reset or cut mid-answer
            raise SmsError(f"{self.where}: {exc.strerror or exc}", transient=True) from None


def render(template: str, message: SmsMessage) -> str:
    values = {
        "phone": json.dumps(message.phone, ensure_ascii=False),
        "text": json.dumps(message.text, ensure_ascii=False),
        "reference": json.dumps(message.reference, ensure_ascii=False),
    }
    return string.Template(template).substitute(values)


def check_template(template: str) -> str:
    """*template* if it fills to JSON with every placeholder known; ValueError saying what is
    wrong otherwise (checked when the worker starts, not at the first message)."""
    try:
        filled = render(template, SmsMessage("13800000000", '测试 "text"', "kiosk/uuid"))
    except (KeyError, ValueError) as exc:
        allowed = ", ".join(f"${name}" for name in TEMPLATE_FIELDS)
        raise ValueError(
            f"the SMS body template has a bad placeholder ({exc}); use {allowed}"
        ) from None
    try:
        json.loads(filled)
    except ValueError as exc:
        raise ValueError(
            f"the SMS body template does not fill to JSON ({exc}); placeholders become JSON "
            'strings, so write $text, not "$text"'
        ) from None
    for needed in ("phone", "text"):
        if f"${needed}" not in template and f"${{{needed}}}" not in template:
            raise ValueError(f"the SMS body template never sends the {needed} (${needed})")
    return template
