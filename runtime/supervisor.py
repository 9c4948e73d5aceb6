"""One supervisor for every long-lived worker: a thread whose body must never die silently.

A body is a loop, ``body(stop)``, that returns when *stop* is set. When it raises anything, or
returns while nobody asked it to, the supervisor logs the traceback (the terminal's log handlers
redact it), marks the worker faulted with a stable code (``crashed:IndexError``,
``exited``), waits a backoff that doubles up to a cap, and runs the body again, counting
restarts. Health is read from any thread; listeners hear every change on the worker's thread.

The worker's owner decides what a crash means for its device or link (a reader says
"internal error" while it restarts); the supervisor only guarantees that the loop comes back and
that everyone can see that it went.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

log = logging.getLogger(__name__)

Body = Callable[[threading.Event], None]

BACKOFF_BASE = 0.5  # seconds before the first restart
BACKOFF_CAP = 30.0
HEALTHY_AFTER = 60.0  # a run this long resets the backoff: the crash was not a loop of crashes


@dataclass(frozen=True)
class Health:
    """What a technician and an operator read about one worker."""

    name: str
    state: str = "starting"  # starting, running, restarting, stopped
    restarts: int = 0
    fault: str | None = None  # the last crash's stable code, kept after recovery
    fault_at: str | None = None  # when it happened (ISO 8601, local time with offset)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name, "state": self.state, "restarts": self.restarts,
            "fault": self.fault, "fault_at": self.fault_at,
        }  # fmt: skip


class Supervised:
    """One worker: *body* on its own daemon thread, brought back whenever it dies."""

    def __init__(
        self,
        name: str,
        body: Body,
        *,
        base: float = BACKOFF_BASE,
        cap: float = BACKOFF_CAP,
        on_crash: Callable[[BaseException | None], None] | None = None,
    ) -> None:
        self.name, self._body = name, body
        self._base, self._cap = base, cap
        self._on_crash = on_crash  # the owner's word for it (a device's fault state), if any
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._health = Health(name)
        self._listeners: list[Callable[[Health], None]] = []

    @property
    def health(self) -> Health:
        with self._lock:
            return self._health

    def add_listener(self, listener: Callable[[Health], None]) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._supervise, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)
        self._set(state="stopped")

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    @property
    def dead(self) -> bool:
        """Started, not asked to stop, and yet its thread is gone: only a supervisor that itself
        broke (the systemd watchdog's business, kiosk/watchdog.py)."""
        thread = self._thread
        return thread is not None and not thread.is_alive() and not self._stop.is_set()

    def _supervise(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._set(state="running")
            began = time.monotonic()
            crash: BaseException | None = None
            try:
                self._body(self._stop)
            except Exception as exc:  # the point of a supervisor: nothing gets past here
                crash = exc
                log.error("worker %s crashed; restarting", self.name, exc_info=exc)
            if self._stop.is_set():
                break
            if crash is None:
                log.error("worker %s stopped by itself; restarting", self.name)
            if time.monotonic() - began >= HEALTHY_AFTER:
                failures = 0
            delay = min(self._cap, self._base * 2**failures)
            failures += 1
            code = f"crashed:{type(crash).__name__}" if crash is not None else "exited"
            now = datetime.now().astimezone().isoformat(timespec="seconds")
            with self._lock:
                restarts = self._health.restarts + 1
            self._set(state="restarting", fault=code, fault_at=now, restarts=restarts)
            if self._on_crash is not None:
                try:
                    self._on_crash(crash)
                except Exception:
                    log.exception("worker %s: its crash handler failed", self.name)
            self._stop.wait(delay)

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._health = replace(self._health, **changes)  # type: ignore[arg-type]
            health = self._health
        for listener in list(self._listeners):
            try:
                listener(health)
            except Exception:
                log.exception("worker %s: health listener failed", self.name)


class Registry:
    """Every supervised worker of one terminal, for the heartbeat and the technician."""

    def __init__(self) -> None:
        self._workers: dict[str, Supervised] = {}
        self._lock = threading.Lock()
        self._watchers: list[Callable[[list[Health]], None]] = []

    def add(self, worker: Supervised) -> Supervised:
        with self._lock:
            self._workers[worker.name] = worker
        worker.add_listener(lambda _health: self._changed())
        return worker

    def watch(self, watcher: Callable[[list[Health]], None]) -> None:
        """Hear every worker's change (on that worker's thread) with all workers' health."""
        self._watchers.append(watcher)

    def _changed(self) -> None:
        health = self.health()
        for watcher in list(self._watchers):
            try:
                watcher(health)
            except Exception:
                log.exception("worker health watcher failed")

    def health(self) -> list[Health]:
        with self._lock:
            workers = list(self._workers.values())
        return [w.health for w in workers]

    def dead(self) -> list[str]:
        """The workers whose thread is gone though nobody stopped them."""
        with self._lock:
            workers = list(self._workers.values())
        return [w.name for w in workers if w.dead]


# The terminal's workers register here as they are made; a process has one terminal.
WORKERS = Registry()
