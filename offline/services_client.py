"""Asking the central platform a resident's online query (a record, a scanned code), without Qt.

Every failure is the sync client's TransientError (no answer now: network, timeout, 5xx, a garbled
reply) or RefusedError (the platform will not answer this query: credentials, an older platform
without the route, a query it calls invalid), so the terminal can fall back to its offline path.
The identifier may be an ID number: it travels only in the request body, and is never logged nor
put into an exception message.
"""

from __future__ import annotations

from os import PathLike
from typing import Any, Literal

from pydantic import ValidationError

from contracts.wire import QueueAnswer, QueueQuery, ServiceAnswer, ServiceQuery
from offline.http import HttpError, check_trusted, post_json, trust_platform
from offline.sync import RefusedError, TransientError

Language = Literal["zh_CN", "en"]


class ServiceQueryClient:
    def __init__(
        self,
        url: str,
        kiosk_id: str,
        token: str,
        timeout: float = 10.0,
        *,
        ca_file: str | PathLike[str] | None = None,
        allow_insecure: bool | None = None,
    ) -> None:
        """Without *ca_file* and *allow_insecure*, the platform is trusted as the terminal's
        sync client was built for it (make_client: [central] ca_file, allow_insecure), else by
        the system's store; plain http off loopback raises PlatformTrustError here."""
        if ca_file is not None or allow_insecure is not None:
            trust_platform(url, ca_file=ca_file, allow_insecure=bool(allow_insecure))
        else:
            check_trusted(url)
        self.url = url.rstrip("/")
        self.kiosk_id, self.token = kiosk_id, token
        self.timeout = timeout

    def query(self, service: str, identifier: str, language: Language = "zh_CN") -> ServiceAnswer:
        """The platform's answer; TransientError or RefusedError when there is none."""
        try:
            query = ServiceQuery.model_validate(
                {"service": service, "identifier": identifier, "language": language}
            )
        except ValidationError:  # its text would repeat the identifier: say only what is wrong
            raise RefusedError(f"not a valid {service} query") from None
        body = query.model_dump()
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

    def queue_ahead(self, ticket: str) -> QueueAnswer:
        """How many wait ahead of *ticket* at this terminal's centre today; TransientError or
        RefusedError when the platform cannot say (an older platform has no such route)."""
        try:
            body = QueueQuery(ticket=ticket).model_dump()
        except ValidationError:
            raise RefusedError(f"not a ticket number: {ticket!r}") from None
        try:
            response = post_json(
                f"{self.url}/v1/kiosks/{self.kiosk_id}/queue/ahead",
                body, token=self.token, timeout=self.timeout,
            )  # fmt: skip
        except HttpError as exc:
            raise TransientError(str(exc)) from exc
        if response.status == 200:
            try:
                return QueueAnswer.model_validate(response.body)
            except ValidationError:
                raise TransientError("the platform's answer is not a queue answer") from None
        error = f"HTTP {response.status}: {response.error_detail()}"
        if response.status in (408, 429) or response.status >= 500:
            raise TransientError(error)
        raise RefusedError(error)


def parse_answer(body: Any) -> ServiceAnswer:
    """The answer in a 200 body, or TransientError when it is not one (a proxy, a broken
    platform): the terminal then answers from its offline path rather than show garbage."""
    try:
        return ServiceAnswer.model_validate(body)
    except ValidationError:
        raise TransientError("the platform's answer is not a service answer") from None
