"""Asking the central platform a resident's online query (a record, a scanned code), without Qt.

Every failure is the sync client's TransientError (no answer now: network, timeout, 5xx, a garbled
reply) or RefusedError (the platform will not answer this query: credentials, an older platform
without the route, a query it calls invalid), so the terminal can fall back to its offline path.
The identifier may be an ID number: it travels only in the request body, and is never logged nor
put into an exception message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from offline.http import HttpError, post_json
from offline.sync import RefusedError, TransientError

Language = Literal["zh_CN", "en"]
STATUSES = frozenset({"ok", "not_found", "refused"})
_LINE_KEYS = ("label_zh", "label_en", "value")


@dataclass(frozen=True)
class AnswerLine:
    """One line to show and print: both labels, the value in the query's language."""

    label_zh: str
    label_en: str
    value: str

    def label(self, language: Language) -> str:
        return self.label_zh if language == "zh_CN" else self.label_en


@dataclass(frozen=True)
class ServiceAnswer:
    status: str  # ok, not_found, refused
    reason: str | None  # stable code when not ok: no_record, unknown_code, not_today, ...
    fields: tuple[AnswerLine, ...]
    reference: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class ServiceQueryClient:
    def __init__(self, url: str, kiosk_id: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.kiosk_id, self.token = kiosk_id, token
        self.timeout = timeout

    def query(self, service: str, identifier: str, language: Language = "zh_CN") -> ServiceAnswer:
        """The platform's answer; TransientError or RefusedError when there is none."""
        body = {"service": service, "identifier": identifier, "language": language}
        try:
            response = post_json(
                f"{self.url}/v1/kiosks/{self.kiosk_id}/services/query",
                body, token=self.token, timeout=self.timeout,
            )  # fmt: skip
        except HttpError as exc:  # its message names host and error, never the body
            raise TransientError(str(exc)) from exc
        if response.status == 200:
            return parse_answer(response.body)
        # A platform's detail should never echo the identifier; make sure of it anyway.
        detail = response.error_detail().replace(identifier, "<redacted>")
        error = f"HTTP {response.status}: {detail}"
        if response.status in (408, 429) or response.status >= 500:
            raise TransientError(error)
        raise RefusedError(error)


def parse_answer(body: Any) -> ServiceAnswer:
    """The answer in a 200 body, or TransientError when it is not one (a proxy, a broken
    platform): the terminal then answers from its offline path rather than show garbage."""
    if not isinstance(body, dict):
        raise TransientError("the platform's answer is not an object")
    status, reason, reference = body.get("status"), body.get("reason"), body.get("reference")
    raw_fields = body.get("fields")
    if (
        status not in STATUSES
        or not (reason is None or isinstance(reason, str))
        or not isinstance(reference, str)
        or not isinstance(raw_fields, list)
    ):
        raise TransientError("the platform's answer lacks status, fields or reference")
    lines = []
    for raw in raw_fields:
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in _LINE_KEYS):
            raise TransientError("the platform's answer has a malformed field")
        lines.append(AnswerLine(raw["label_zh"], raw["label_en"], raw["value"]))
    return ServiceAnswer(str(status), reason, tuple(lines), reference)
