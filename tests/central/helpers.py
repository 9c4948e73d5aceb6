"""Building blocks for the kiosk-central tests: batch items and a registered kiosk."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Kiosk:
    id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def item(
    n: int,
    *,
    seq: int | None = None,
    service: str = "queue_ticket",
    payload: dict[str, Any] | None = None,
    created_at: str = "2025-03-01T09:30:00+08:00",
) -> dict[str, Any]:
    """One batch item as a terminal sends it; *n* picks the uuid and, by default, the seq."""
    return {
        "uuid": f"0190a000-0000-7000-8000-{n:012d}",
        "seq": n if seq is None else seq,
        "service": service,
        "payload": {"window": "A", "ticket": f"A{n:03d}"} if payload is None else payload,
        "created_at": created_at,
    }


def run_together(*calls: Callable[[], T]) -> list[T]:
    """Run each call on its own thread, released at the same instant; results in call order.

    An exception in any call is raised again here, in the test's thread.
    """
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    assert not any(thread.is_alive() for thread in threads), "a call did not finish"
    return [result for result in results if result is not None]
