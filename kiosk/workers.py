"""Running blocking work (disk, devices, network) off the UI thread and getting the answer back.

One helper for every call site, after Anki's ``QueryOp``: ``worker.run(fn, on_done, on_error)``
runs *fn* on the worker's own thread and hands the result to the callbacks through *post*, which
the UI supplies to deliver them on its thread. Qt-free, so the core and its tests use it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Post = Callable[[Callable[[], None]], None]


def call_now(fn: Callable[[], None]) -> None:
    """A *post* for code without a UI thread: run the callback on the worker's thread."""
    fn()


class Worker:
    """A single thread that runs jobs in order: the natural shape for one database or device."""

    def __init__(self, name: str, post: Post = call_now) -> None:
        self.name = name
        self._post = post
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Future[Any]:
        def job() -> None:
            try:
                result = fn()
            except Exception as exc:
                log.warning("%s: job failed: %s", self.name, type(exc).__name__)
                if on_error is not None:
                    failure = exc  # `exc` is unbound once the except block ends
                    self._post(lambda: on_error(failure))
                else:
                    log.exception("%s: unhandled failure", self.name)
                return
            if on_done is not None:
                self._post(lambda: on_done(result))

        if self._closed:
            # The terminal is stopping: a page's timer that fires now asks for nothing anyone
            # will read. Dropped, not raised into the UI's event loop.
            log.debug("%s: stopped; job dropped", self.name)
            dropped: Future[Any] = Future()
            dropped.cancel()
            return dropped
        try:
            return self._pool.submit(job)
        except RuntimeError:  # shut down between the check and the submit
            dropped = Future()
            dropped.cancel()
            return dropped

    def shutdown(self, wait: bool = True) -> None:
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
