"""A small JSON-over-HTTP client on the standard library: explicit timeouts, no retries of its
own (the sync worker owns retrying), and every failure as one HttpError.

TLS: the platform is verified against the CA its builder named for that origin
(``trust_platform``, from ``[central] ca_file``), else against the system's trust store. Plain
http is for loopback (the embedded platform) unless ``[central] allow_insecure`` says otherwise:
the token, ID numbers in queries and feedback text would otherwise cross the network readable.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import json
import os
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class HttpError(Exception):
    """The request did not produce an HTTP answer (refused, reset, timed out, garbled)."""


class TlsError(HttpError):
    """The platform's certificate or the TLS handshake failed. Still an HttpError: what waits in
    the outbox stays there and is retried (a renewed certificate or a fixed CA file heals it),
    but the message says what to fix rather than "offline"."""


class PlatformTrustError(ValueError):
    """The platform's address or CA cannot be used as configured: a configuration error, which
    no retry heals. The message is one line naming the setting to change."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name localhost: traffic that never leaves this machine."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _origin(parts: SplitResult) -> str:
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{parts.hostname}:{parts.port or default}"


def check_platform_url(url: str, *, allow_insecure: bool = False) -> None:
    """Raise PlatformTrustError unless *url* is https, or http to loopback, or http allowed."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a bad port raises here, not at the first request
    except ValueError as exc:
        raise PlatformTrustError(f"url {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlatformTrustError(f"url {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        raise PlatformTrustError(
            f"url {_origin(parts)} is plain http to a host that is not loopback: the token, ID "
            "numbers and feedback would cross the network readable; use https (with "
            "[central] ca_file), or set [central] allow_insecure = true"
        )


@functools.cache
def _system_context() -> ssl.SSLContext:
    # Built once: loading the system's store costs milliseconds, per request that adds up.
    return _hardened(ssl.create_default_context())


def _hardened(context: ssl.SSLContext) -> ssl.SSLContext:
    # Explicit rather than whatever the system's OpenSSL configuration sets as the floor.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def load_ca(ca_file: str | os.PathLike[str] | None) -> ssl.SSLContext:
    """A verifying client context trusting only *ca_file* (PEM), or the system's store for None.

    Only the file, not the system's store as well: a fleet's own CA then pins its platform, and
    a certificate some public CA issued for the same name is not accepted."""
    if ca_file is None:
        return _system_context()
    path = os.fspath(ca_file)
    try:
        with open(path, "rb") as pem:  # tells "cannot read" apart from "not a certificate"
            text = pem.read()
    except OSError as exc:
        raise PlatformTrustError(f"{path}: cannot read ({exc.strerror or exc})") from None
    # Not create_default_context(cadata=...): given an empty string it quietly loads the
    # system's store instead, and an empty file would then trust every public CA.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    try:
        context.load_verify_locations(cadata=text.decode("ascii"))
        loaded = context.cert_store_stats()["x509"]
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        loaded = 0
    if not loaded:
        raise PlatformTrustError(f"{path}: no CA certificate in it (PEM expected)")
    return _hardened(context)


@dataclass(frozen=True)
class _Trust:
    context: ssl.SSLContext
    allow_insecure: bool


_trusted: dict[str, _Trust] = {}
_trusted_lock = threading.Lock()


def trust_platform(
    url: str, *, ca_file: str | os.PathLike[str] | None = None, allow_insecure: bool = False
) -> None:
    """Check *url* and remember, for its origin, the CA its certificate must chain to.

    Process-wide: the clients that talk to the platform (sync, online queries, the self-test's
    heartbeat) are built in different places from the url alone, and all must verify alike.
    Raises PlatformTrustError (one line, naming the setting)."""
    check_platform_url(url, allow_insecure=allow_insecure)
    parts = urlsplit(url)
    try:
        # A CA file for a loopback http platform is not used, but a broken one is still said.
        context = load_ca(ca_file)
    except PlatformTrustError as exc:
        raise PlatformTrustError(f"ca_file {exc}") from None
    with _trusted_lock:
        _trusted[_origin(parts)] = _Trust(context, allow_insecure)


def check_trusted(url: str) -> None:
    """Raise PlatformTrustError for plain http off loopback unless trust_platform allowed it."""
    try:
        trust = _trusted.get(_origin(urlsplit(url)))
    except ValueError:
        trust = None
    check_platform_url(url, allow_insecure=trust is not None and trust.allow_insecure)


def _context_for(parts: SplitResult) -> ssl.SSLContext:
    trust = _trusted.get(_origin(parts))
    return trust.context if trust is not None else _system_context()


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case

    def retry_after(self) -> float | None:
        """Retry-After in seconds (429, 503), or None when absent or not a number of seconds
        (the HTTP-date form is not used by the platform and would need the clocks to agree)."""
        raw = self.headers.get("retry-after", "").strip()
        if not raw.isdigit():
            return None
        return float(raw)

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
            parts.hostname, parts.port, timeout=timeout, context=_context_for(parts)
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    where = _origin(parts).partition("://")[2]
    try:
        conn.request(method, path, body=data, headers=sent)
        reply = conn.getresponse()
        raw = reply.read(MAX_RESPONSE_BYTES + 1)
        got = {k.lower(): v for k, v in reply.getheaders()}
    except ssl.SSLCertVerificationError as exc:
        # verify_message is OpenSSL's reason in words: "certificate has expired", "Hostname
        # mismatch, ...", "unable to get local issuer certificate" (another CA signed it).
        raise TlsError(
            f"{where}: the platform's certificate is not trusted: {exc.verify_message} "
            "(check [central] ca_file and the platform's certificate)"
        ) from exc
    except ssl.SSLError as exc:
        # WRONG_VERSION_NUMBER: the answer was not TLS at all, most often a platform on http.
        hint = " (is the platform serving https?)" if exc.reason == "WRONG_VERSION_NUMBER" else ""
        raise TlsError(f"{where}: TLS handshake failed: {exc.reason or exc}{hint}") from exc
    except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
        raise HttpError(f"{where}: {type(exc).__name__}: {exc}") from exc
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
    return Response(reply.status, parsed, reply.headers)
