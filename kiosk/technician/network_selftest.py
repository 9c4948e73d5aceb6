"""The network self-test: DNS, TCP and TLS to the platform, its ``/healthz``, the token (by a
heartbeat) and this terminal's clock against the platform's.

The platform is the one the terminal syncs to: the configured one, or the embedded platform the
terminal started on loopback when none is configured (``SelfTestContext.embedded``)."""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from kiosk.technician.said import Said, said
from kiosk.technician.selftest_types import (
    Deadline,
    Outcome,
    SelfTestContext,
    SelfTestTimeout,
    bounded,
    failed,
    passed,
    skip,
)
from kiosk.technician.snapshot import heartbeat_info
from offline.http import PlatformTrustError, load_ca

MAX_CLOCK_SKEW = 60.0  # seconds; beyond this, signed configuration and logs go wrong


def _parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _skew(server: datetime, sent: float, received: float) -> float:
    """Our clock minus the platform's at the middle of the exchange (positive: we are ahead)."""
    local = datetime.fromtimestamp((sent + received) / 2, UTC)
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    return round((local - server).total_seconds(), 2)


def network_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    url = ctx.central_url
    if not url and ctx.embedded:  # it should be there: transactions wait until it is
        return failed(said("diag.result.embedded_down"), details={"platform": "embedded"})
    if not url:
        return skip(said("diag.result.no_platform"))
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return failed(said("diag.result.bad_url", url=url))
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    details: dict[str, Any] = {
        "platform": "embedded" if ctx.embedded else "configured",
        "host": host,
        "port": port,
    }

    def fail(key: str, **values: Any) -> Outcome:
        return failed(said(f"diag.result.{key}", **values), details=details)

    # DNS (getaddrinfo has no timeout of its own)
    started = time.monotonic()
    try:
        infos = bounded(
            lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), deadline.left(), "dns"
        )
    except (OSError, SelfTestTimeout) as exc:
        return fail("dns_failed", host=host, reason=str(exc))
    details["dns_ms"] = round(1000 * (time.monotonic() - started), 1)
    details["addresses"] = sorted({str(info[4][0]) for info in infos})

    # TCP, then TLS on the same connection
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=deadline.left(5.0))
    except OSError as exc:
        if isinstance(exc, ConnectionRefusedError):
            return fail("refused", host=host, port=port)
        return fail("connect_failed", host=host, port=port, reason=str(exc))
    details["tcp_ms"] = round(1000 * (time.monotonic() - started), 1)
    context: ssl.SSLContext | None = None
    with sock:
        if tls:
            try:
                # The CA the terminal trusts for its platform, as sync uses it: a fleet's own CA
                # is not in the system's store.
                context = load_ca(ctx.ca_file)
                sock.settimeout(deadline.left(5.0))
                with context.wrap_socket(sock, server_hostname=host) as tls_sock:
                    details["tls"] = tls_sock.version()
                    cert = tls_sock.getpeercert() or {}
                    if cert.get("notAfter"):
                        expires = ssl.cert_time_to_seconds(str(cert["notAfter"]))
                        details["cert_days_left"] = round((expires - time.time()) / 86400, 1)
            except (OSError, ssl.SSLError, PlatformTrustError) as exc:
                return fail("tls_failed", host=host, reason=str(exc))

    # The API: /healthz, and the clock from its Date header
    base = url.rstrip("/")
    sent = time.time()
    try:
        status, date_header = _get_healthz(base, context, host, port, deadline.left(5.0))
    except (OSError, http.client.HTTPException) as exc:
        return fail("healthz_silent", reason=str(exc))
    received = time.time()
    details["healthz"] = status
    if status != 200:
        return fail("healthz_status", status=status)
    server_time = _parse_http_date(date_header)
    if server_time is not None:
        details["clock_skew_seconds"] = _skew(server_time, sent, received)
        details["clock_source"] = "http date"

    # With a token: is it accepted? The heartbeat's reply carries the platform's clock, finer.
    if ctx.token:
        from offline.http import HttpError, post_json

        info = heartbeat_info(ctx.health())
        sent = time.time()
        try:
            reply = post_json(
                f"{base}/v1/kiosks/{ctx.kiosk_id}/heartbeat",
                info,
                token=ctx.token,
                timeout=deadline.left(5.0),
            )
        except HttpError as exc:
            return fail("heartbeat_failed", reason=str(exc))
        received = time.time()
        details["heartbeat"] = reply.status
        if reply.status in (401, 403):
            return fail("token_refused", status=reply.status)
        if reply.status != 200:
            return fail("heartbeat_status", status=reply.status)
        body = reply.body if isinstance(reply.body, dict) else {}
        try:
            stamp = datetime.fromisoformat(str(body.get("server_time")))
        except ValueError:
            stamp = None
        if stamp is not None:
            details["clock_skew_seconds"] = _skew(stamp, sent, received)
            details["clock_source"] = "heartbeat"
    skew = details.get("clock_skew_seconds")
    if skew is not None and abs(skew) > MAX_CLOCK_SKEW:
        return fail("clock_ahead" if skew > 0 else "clock_behind", seconds=abs(skew))
    reachable = "embedded_ok" if ctx.embedded else "platform_ok"
    found: list[Said] = [said(f"diag.result.{reachable}", ms=details["tcp_ms"])]
    if skew is not None:
        found.append(said("diag.result.clock_ok", seconds=abs(skew)))
    if ctx.token:
        found.append(said("diag.result.token_ok"))
    return passed(*found, details=details)


def _get_healthz(
    base: str, context: ssl.SSLContext | None, host: str, port: int, timeout: float
) -> tuple[int, str]:
    conn: http.client.HTTPConnection
    if context is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    path = (urlsplit(base).path or "").rstrip("/") + "/healthz"
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        reply = conn.getresponse()
        reply.read(65536)
        return reply.status, reply.getheader("Date") or ""
    finally:
        conn.close()
