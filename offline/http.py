"""A small JSON-over-HTTP client on the standard library: explicit timeouts, no retries of its
own (the sync worker owns retrying), and every failure as one HttpError."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class HttpError(Exception):
    """The request did not produce an HTTP answer (refused, reset, timed out, garbled)."""


@dataclass(frozen=True)
class Response:
    status: int
    body: Any

    def error_detail(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("detail") or self.body.get("error") or self.body)[:300]
        return str(self.body)[:300]


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def get_raw(
    url: str, *, token: str | None, timeout: float, headers: dict[str, str] | None = None
) -> RawResponse:
    """A GET whose body is kept as bytes (a signed document must reach its verifier untouched)."""
    return exchange("GET", url, None, token=token, timeout=timeout, headers=headers)


def exchange(
    method: str,
    url: str,
    data: bytes | None,
    *,
    token: str | None,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> RawResponse:
    """One request on its own connection, with a timeout; any failure is one HttpError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: {url!r}")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, path, body=data, headers=sent)
        reply = conn.getresponse()
        raw = reply.read(MAX_RESPONSE_BYTES + 1)
        got = {k.lower(): v for k, v in reply.getheaders()}
    except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
        raise HttpError(f"{parts.hostname}:{parts.port}: {type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
    if len(raw) > MAX_RESPONSE_BYTES:
        raise HttpError("the platform's answer is too large")
    return RawResponse(reply.status, got, raw)


def post_json(url: str, body: Any, *, token: str | None, timeout: float) -> Response:
    return request_json("POST", url, body, token=token, timeout=timeout)


def request_json(
    method: str, url: str, body: Any = None, *, token: str | None, timeout: float
) -> Response:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    reply = exchange(method, url, data, token=token, timeout=timeout, headers=headers)
    raw = reply.body
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw[:300].decode("utf-8", "replace")
        if 200 <= reply.status < 300:
            raise HttpError(f"HTTP {reply.status} with a body that is not JSON") from None
    return Response(reply.status, parsed)
