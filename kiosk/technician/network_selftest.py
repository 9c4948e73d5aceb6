"""The network self-test: DNS, TCP and TLS to the platform, its ``/healthz``, the token (by a
heartbeat) and this terminal's clock against the platform's."""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from kiosk.technician.selftest_types import (
    Deadline,
    Outcome,
    SelfTestContext,
    SelfTestTimeout,
    bounded,
    skip,
)
from kiosk.technician.snapshot import heartbeat_info

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
    if not url:
        return skip("no platform configured ([central] url)")
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return Outcome(False, f"platform: {url!r} is not an http(s) URL")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    details: dict[str, Any] = {"host": host, "port": port}

    # DNS (getaddrinfo has no timeout of its own)
    started = time.monotonic()
    try:
        infos = bounded(
            lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), deadline.left(), "dns"
        )
    except (OSError, SelfTestTimeout) as exc:
        return Outcome(False, f"network: cannot resolve {host} ({exc})", details)
    details["dns_ms"] = round(1000 * (time.monotonic() - started), 1)
    details["addresses"] = sorted({str(info[4][0]) for info in infos})

    # TCP, then TLS on the same connection
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=deadline.left(5.0))
    except OSError as exc:
        reason = "refused the connection" if isinstance(exc, ConnectionRefusedError) else str(exc)
        return Outcome(False, f"network: {host}:{port} {reason}", details)
    details["tcp_ms"] = round(1000 * (time.monotonic() - started), 1)
    with sock:
        if tls:
            try:
                context = ssl.create_default_context()
                sock.settimeout(deadline.left(5.0))
                with context.wrap_socket(sock, server_hostname=host) as tls_sock:
                    details["tls"] = tls_sock.version()
                    cert = tls_sock.getpeercert() or {}
                    if cert.get("notAfter"):
                        expires = ssl.cert_time_to_seconds(str(cert["notAfter"]))
                        details["cert_days_left"] = round((expires - time.time()) / 86400, 1)
            except (OSError, ssl.SSLError) as exc:
                return Outcome(False, f"network: TLS handshake with {host} failed ({exc})", details)

    # The API: /healthz, and the clock from its Date header
    base = url.rstrip("/")
    sent = time.time()
    try:
        status, date_header = _get_healthz(base, tls, host, port, deadline.left(5.0))
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, f"platform: /healthz did not answer ({exc})", details)
    received = time.time()
    details["healthz"] = status
    if status != 200:
        return Outcome(False, f"platform: /healthz answered HTTP {status}", details)
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
            return Outcome(False, f"platform: heartbeat failed ({exc})", details)
        received = time.time()
        details["heartbeat"] = reply.status
        if reply.status in (401, 403):
            return Outcome(False, f"platform: token refused (HTTP {reply.status})", details)
        if reply.status != 200:
            return Outcome(False, f"platform: heartbeat answered HTTP {reply.status}", details)
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
        side = "ahead of" if skew > 0 else "behind"
        return Outcome(False, f"clock: {abs(skew):.0f} s {side} the platform", details)
    words = f"platform reachable ({details['tcp_ms']:.0f} ms)"
    if skew is not None:
        words += f", clock within {abs(skew):.1f} s"
    if ctx.token:
        words += ", token accepted"
    return Outcome(True, words, details)


def _get_healthz(base: str, tls: bool, host: str, port: int, timeout: float) -> tuple[int, str]:
    conn: http.client.HTTPConnection
    if tls:
        conn = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
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
