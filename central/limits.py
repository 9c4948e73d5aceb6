"""Per-token rate limits: a token bucket for each bearer token, kept in the API worker's memory,
and the ASGI middleware that answers a token over its limit with 429 and Retry-After.

Per worker, on purpose: a shared counter (in the database, or a Redis the platform does not
otherwise need) would cost a round trip on every request to guard against the rare runaway or
stolen token, and this limit is such a guard, not a quota. With N workers a token may therefore
get up to N times the limit when its requests happen to spread over all of them.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
LIMITED_PREFIX = "/v1/"  # the routes that take a bearer token (terminals, calling systems)
SWEEP_ABOVE = 50_000  # buckets kept before full ones are dropped (a full bucket = no bucket)


@dataclass(frozen=True)
class RateLimit:
    """*per_second* requests sustained per token (in one worker), *burst* at once."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not self.per_second > 0 or self.burst < 1:
            raise ValueError("a rate limit needs per_second > 0 and burst >= 1")


# A terminal sends a heartbeat a minute, a batch per visit, a few queries per resident; a drain
# after weeks offline sends batches one after the other. This only stops a runaway loop.
DEFAULT_RATE = RateLimit(per_second=50.0, burst=100)


class TokenBuckets:
    """One bucket per key, refilled at the limit's rate up to its burst. Used from the event
    loop's thread only, so it needs no lock."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: dict[bytes, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._next_sweep = clock() + self._refill_seconds

    @property
    def _refill_seconds(self) -> float:
        return max(1.0, self.limit.burst / self.limit.per_second)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: bytes) -> float:
        """Take one request from *key*'s bucket: 0.0 if allowed, else the seconds until one is
        there again."""
        now = self._clock()
        rate, burst = self.limit.per_second, self.limit.burst
        tokens, counted = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - counted) * rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / rate
        self._buckets[key] = (tokens, now)
        if now >= self._next_sweep or len(self._buckets) > SWEEP_ABOVE:
            self._sweep(now)
        return wait

    def _sweep(self, now: float) -> None:
        # A bucket that has refilled is the same as none: dropping it bounds the memory that
        # many tokens (a flood of made-up ones, too) can take.
        rate, burst = self.limit.per_second, self.limit.burst
        self._buckets = {
            key: (tokens, counted)
            for key, (tokens, counted) in self._buckets.items()
            if tokens + (now - counted) * rate < burst
        }
        self._next_sweep = now + self._refill_seconds


class TokenRateLimit:
    """ASGI middleware: a request to a ``/v1/`` route with a bearer token over its token's
    limit gets 429, Retry-After and the API's error body, before its body is read."""

    def __init__(self, app: ASGIApp, limit: RateLimit) -> None:
        self.app = app
        self.buckets = TokenBuckets(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(LIMITED_PREFIX):
            token = _authorization(scope)
            if token is not None:
                # Keyed by a digest: the table of buckets holds no usable token.
                wait = self.buckets.take(hashlib.blake2b(token, digest_size=16).digest())
                if wait > 0.0:
                    await _too_many(self.buckets.limit, wait, send)
                    return
        await self.app(scope, receive, send)


def _authorization(scope: Scope) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":  # ASGI servers give header names in lower case
            return bytes(value)
    return None


async def _too_many(limit: RateLimit, wait: float, send: Send) -> None:
    seconds = max(1, math.ceil(wait))
    body = json.dumps(
        {
            "error": "too_many_requests",
            "detail": f"more than {limit.per_second:g} requests per second (bursts of "
            f"{limit.burst}) with this token; retry after {seconds} s",
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
