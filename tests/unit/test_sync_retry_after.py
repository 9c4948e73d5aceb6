"""The terminal's sync treats 429 (its token over the platform's rate limit) as transient and
waits at least the Retry-After the platform asked for, within its backoff cap; the outbox is
untouched."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from offline.outbox import OutboxStore
from offline.sync import Link, SyncClient, SyncWorker, TransientError


class Busy(BaseHTTPRequestHandler):
    """Answers every request as a platform over its limit would."""

    status = 429
    retry_after: str | None = "120"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"error": "too_many_requests", "detail": "slow down"}'
        self.send_response(self.status)
        if self.retry_after is not None:
            self.send_header("Retry-After", self.retry_after)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def platform() -> Iterator[tuple[str, type[Busy]]]:
    handler = type("Handler", (Busy,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="busy-platform")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OutboxStore]:
    opened = OutboxStore(tmp_path / "kiosk.db")
    opened.record("queue_ticket", {"ticket": "A001"})
    yield opened
    opened.close()


def _worker(url: str, store: OutboxStore, cap: float = 300.0) -> SyncWorker:
    client = SyncClient(store, url, "kiosk-001", "t", timeout=5)
    return SyncWorker(client, store, base=1.0, cap=cap, rng=random.Random(1))


def test_429_is_transient_and_carries_the_platforms_retry_after(
    platform: tuple[str, type[Busy]], store: OutboxStore
) -> None:
    url, _ = platform
    with pytest.raises(TransientError) as raised:
        SyncClient(store, url, "kiosk-001", "t", timeout=5).push()
    assert raised.value.retry_after == 120.0
    assert "429" in str(raised.value)
    assert store.status().waiting == 1  # nothing acknowledged, nothing dead


def test_the_worker_waits_at_least_what_the_platform_asked(
    platform: tuple[str, type[Busy]], store: OutboxStore
) -> None:
    """Given a platform answering 429 with Retry-After: 120, when the worker tries, then its
    next try is no sooner than 120 s (its own backoff alone would be at most 1 s now)."""
    url, _ = platform
    worker = _worker(url, store)
    delay = worker.run_once()
    assert 120.0 <= delay <= 300.0
    assert worker.status.link is Link.OFFLINE
    assert worker.status.retry_in == delay
    assert store.status().waiting == 1


def test_a_retry_after_past_the_cap_waits_the_cap(
    platform: tuple[str, type[Busy]], store: OutboxStore
) -> None:
    url, handler = platform
    handler.retry_after = "86400"
    assert _worker(url, store, cap=300.0).run_once() == 300.0


@pytest.mark.parametrize(("status", "retry_after"), [(429, None), (503, None), (503, "soon")])
def test_without_a_usable_retry_after_the_backoff_alone_decides(
    platform: tuple[str, type[Busy]], store: OutboxStore, status: int, retry_after: str | None
) -> None:
    url, handler = platform
    handler.status, handler.retry_after = status, retry_after
    assert _worker(url, store).run_once() <= 1.0  # full jitter, first failure: [0, base]
    assert store.status().waiting == 1


def test_503_with_retry_after_is_honoured_too(
    platform: tuple[str, type[Busy]], store: OutboxStore
) -> None:
    url, handler = platform
    handler.status, handler.retry_after = 503, "5"
    assert _worker(url, store).run_once() >= 5.0
