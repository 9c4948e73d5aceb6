"""Delivering the outbox to the central platform, exactly once, without ever blocking a visit.

``SyncClient.push`` sends batches in sequence order and applies the platform's verdict per item:
accepted or duplicate -> acknowledged; conflict or rejected -> dead letter with the reason (it never
blocks the ones behind). A whole-batch refusal (400/422) is split down to single items so one bad
transaction cannot hold up the rest; 413 halves the batch. Network trouble, 5xx and 429 are
transient: nothing changes but the backoff.

``SyncWorker`` runs the client on its own thread: immediately when woken (a transaction was just
recorded), otherwise after a full-jitter exponential backoff while the platform is unreachable,
or at a relaxed interval while idle. It sends heartbeats and purges settled personal data.
"""

from __future__ import annotations

import enum
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts.personal import PersonalKey
from contracts.wire import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    ConfigReport,
    Heartbeat,
)
from offline.http import HttpError, Response, get_raw, post_json
from offline.outbox import Outbound, OutboxError, OutboxStore, verdicts_by_seq
from runtime.supervisor import WORKERS, Supervised

log = logging.getLogger(__name__)

BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0
IDLE_SECONDS = 30.0  # with nothing waiting, look again this often (heartbeats ride along)
HEARTBEAT_SECONDS = 60.0
CONFIG_SECONDS = 300.0  # how often to ask for configuration: conditional, so cheap, but no storm
PURGE_SECONDS = 600.0


class Link(enum.Enum):
    UNKNOWN = "unknown"  # not tried yet
    ONLINE = "online"
    OFFLINE = "offline"  # the platform could not be reached or answered 5xx
    REFUSED = "refused"  # the platform refuses this terminal's credentials
    UNCONFIGURED = "unconfigured"  # no platform URL or token


@dataclass(frozen=True)
class SyncStatus:
    link: Link = Link.UNKNOWN
    waiting: int = 0
    dead: int = 0
    last_attempt_at: str | None = None
    last_success_at: str | None = None
    last_error: str | None = None
    retry_in: float | None = None  # seconds until the next try while offline


@dataclass
class PushResult:
    sent: int = 0
    acknowledged: int = 0
    dead: int = 0
    requests: int = 0
    error: str | None = None
    link: Link = Link.ONLINE
    counts: dict[str, int] = field(default_factory=dict)
    # Left waiting: personal fields and no platform key to seal them to (never sent in the clear)
    awaiting_key: int = 0


class TransientError(Exception):
    """Try again later: the network or the platform is having trouble. *retry_after*: the
    seconds the platform asked for (429 or 503 with Retry-After), at the least."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RefusedError(Exception):
    """The platform will not take anything from this terminal until its credentials change."""


def full_jitter(failures: int, rng: random.Random, base: float, cap: float) -> float:
    """AWS's "full jitter": uniform in [0, min(cap, base * 2**failures)], so a fleet that lost the
    platform together does not come back in lockstep."""
    return rng.uniform(0.0, min(cap, base * 2.0 ** min(failures, 30)))


class SyncClient:
    def __init__(
        self,
        store: OutboxStore,
        url: str,
        kiosk_id: str,
        token: str,
        *,
        batch_size: int = 500,
        timeout: float = 10.0,
        personal_key: Callable[[], PersonalKey | None] | None = None,
    ) -> None:
        self.store = store
        self.url = url.rstrip("/")
        self.kiosk_id, self.token = kiosk_id, token
        self.batch_size = batch_size
        self.timeout = timeout
        # The platform's personal-data public key, as the applied signed configuration has it
        # now (asked at each push: a new bundle may bring a new key).
        self.personal_key = personal_key or (lambda: None)
        self._seal_to: PersonalKey | None = None
        self._said_awaiting = False

    @property
    def _batches_url(self) -> str:
        return f"{self.url}/v1/kiosks/{self.kiosk_id}/batches"

    def push(self, *, max_batches: int | None = None) -> PushResult:
        """Send everything waiting (or *max_batches* batches); raise TransientError or
        RefusedError when the platform cannot take it now. Acknowledgements already applied
        stay applied whatever happens next."""
        result = PushResult()
        size = self.batch_size
        self._seal_to = self.personal_key()
        while max_batches is None or result.requests < max_batches:
            batch = self.store.take_batch(size, seal_to=self._seal_to)
            if not batch:
                break
            try:
                answered = self._send(batch, result)
            except BaseException:
                self.store.release(item.seq for item in batch)
                raise
            if answered == "too_large" and size > 1:
                size = max(1, size // 2)
                self.store.release(item.seq for item in batch)
                continue
            if answered == "split":
                self._send_one_by_one(batch, result)
        if self._seal_to is None:
            result.awaiting_key = self.store.status().unsealed_waiting
            if result.awaiting_key and not self._said_awaiting:
                log.warning(
                    "%d transaction(s) with personal fields wait for the platform's personal-data "
                    "key (a signed configuration's personal_key): never sent in the clear",
                    result.awaiting_key,
                )
            self._said_awaiting = result.awaiting_key > 0
        return result

    def _send(self, batch: list[Outbound], result: PushResult) -> str:
        items = self._wire_items(batch, result)
        if not items:
            return "ok"
        response = self._post(self._batches_url, BatchRequest(items=items).model_dump())
        result.requests += 1
        result.sent += len(batch)
        if response.status == 200:
            self._apply(batch, response, result)
            return "ok"
        if response.status == 413:
            return "too_large" if len(batch) > 1 else self._bury_single(batch, response, result)
        if response.status in (400, 422):
            if len(batch) == 1:
                return self._bury_single(batch, response, result)
            self.store.release(item.seq for item in batch)
            return "split"
        raise self._unexpected(response)

    def _wire_items(self, batch: list[Outbound], result: PushResult) -> list[BatchItem]:
        """The batch in the contract's shape. An item that does not fit it (a bad service code
        from the command line, say) can never be accepted: it goes to the dead letters now rather
        than hold up the queue. Batch order is kept for the rest."""
        items: list[BatchItem] = []
        for out in batch:
            try:
                items.append(
                    BatchItem(uuid=out.uuid, seq=out.seq, service=out.service,
                              payload=out.payload, created_at=out.created_at, sealed=out.sealed)
                )  # fmt: skip
            except ValidationError as exc:
                first = exc.errors()[0]  # location and message only: never the input values
                where = ".".join(str(part) for part in first["loc"])
                self.store.bury([(out.seq, "rejected", f"not sendable: {where}: {first['msg']}")])
                result.dead += 1
        if len(items) < len(batch):
            sendable = {item.seq for item in items}
            batch[:] = [out for out in batch if out.seq in sendable]
        return items

    def _send_one_by_one(self, batch: list[Outbound], result: PushResult) -> None:
        # The batch was refused as a whole: send its items singly (they are the oldest waiting,
        # so they come back first) to find the bad one(s) and let the good ones through.
        for _ in batch:
            single = self.store.take_batch(1, seal_to=self._seal_to)
            if not single:
                return
            try:
                self._send(single, result)
            except BaseException:
                self.store.release(i.seq for i in single)
                raise

    def _bury_single(self, batch: list[Outbound], response: Response, result: PushResult) -> str:
        reason = f"HTTP {response.status}: {response.error_detail()}"
        self.store.bury([(batch[0].seq, "rejected", reason)])
        result.dead += 1
        return "ok"

    def _apply(self, batch: list[Outbound], response: Response, result: PushResult) -> None:
        results: dict[str, tuple[str, str | None]] = {}
        try:
            answered = BatchResponse.model_validate(response.body).results
        except ValidationError:  # not an answer (a proxy's page): none of the items is settled
            answered = []
        for entry in answered:
            results[entry.uuid] = (entry.status, entry.reason)
            result.counts[entry.status] = result.counts.get(entry.status, 0) + 1
        ok, dead, missing = verdicts_by_seq(batch, results)
        result.acknowledged += self.store.acknowledge(ok)
        if dead:
            self.store.bury(dead)
            result.dead += len(dead)
        if missing:  # an answer without them: send them again rather than guess
            self.store.release(missing)
            raise TransientError(f"the platform did not answer for {len(missing)} item(s)")

    def fetch_config(self, etag: str | None) -> tuple[int, str | None, bytes]:
        """(status, etag, bundle bytes): 200 with a bundle, 304 unchanged, 204 none offered."""
        headers = {"If-None-Match": etag} if etag else {}
        try:
            reply = get_raw(
                f"{self.url}/v1/kiosks/{self.kiosk_id}/config",
                token=self.token, timeout=self.timeout, headers=headers,
            )  # fmt: skip
        except HttpError as exc:
            raise TransientError(str(exc)) from exc
        if reply.status not in (200, 204, 304):
            raise self._unexpected(
                Response(reply.status, reply.body[:300].decode("utf-8", "replace"), reply.headers)
            )
        return reply.status, reply.headers.get("etag"), reply.body

    def report_config(self, report: dict[str, Any]) -> None:
        try:
            body = ConfigReport.model_validate(report).model_dump()
        except ValidationError as exc:
            raise RefusedError(f"configuration report does not fit the contract: {exc}") from exc
        response = self._post(f"{self.url}/v1/kiosks/{self.kiosk_id}/config-report", body)
        if response.status != 200:
            raise self._unexpected(response)

    def heartbeat(self, info: dict[str, Any]) -> dict[str, Any]:
        try:
            body = Heartbeat.model_validate(info).model_dump()
        except ValidationError as exc:  # a terminal bug; say so and let delivery go on
            log.error("heartbeat skipped, it does not fit the contract: %s", exc)
            return {}
        response = self._post(f"{self.url}/v1/kiosks/{self.kiosk_id}/heartbeat", body)
        if response.status != 200:
            raise self._unexpected(response)
        return response.body if isinstance(response.body, dict) else {}

    def _post(self, url: str, body: dict[str, Any]) -> Response:
        try:
            return post_json(url, body, token=self.token, timeout=self.timeout)
        except HttpError as exc:
            raise TransientError(str(exc)) from exc

    @staticmethod
    def _unexpected(response: Response) -> Exception:
        detail = f"HTTP {response.status}: {response.error_detail()}"
        if response.status in (401, 403):
            return RefusedError(detail)
        # 429 (this token over its rate limit) and 5xx: the platform says when to come back.
        return TransientError(detail, retry_after=response.retry_after())


# (what is due now or None, "the platform has it") -- see kiosk.config.updater
ConfigDue = tuple[Callable[[], dict[str, Any] | None], Callable[[dict[str, Any]], None]]


class SyncWorker:
    """The client on a background thread; ``wake()`` from any thread, ``status`` from any thread,
    listeners are called on the worker's thread."""

    def __init__(
        self,
        client: SyncClient | None,
        store: OutboxStore,
        *,
        heartbeat_info: Callable[[], dict[str, Any]] | None = None,
        config_offer: Callable[[bytes], dict[str, Any]] | None = None,
        config_due: ConfigDue | None = None,
        config_seconds: float = CONFIG_SECONDS,
        base: float = BACKOFF_BASE,
        cap: float = BACKOFF_CAP,
        idle: float = IDLE_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.client, self.store = client, store
        self.heartbeat_info = heartbeat_info
        self.config_offer = config_offer  # bundle bytes -> report for the platform
        self.config_due = config_due  # final reports made later (a bundle taken up, rolled back)
        self.config_seconds = config_seconds
        self._last_config = 0.0
        self.base, self.cap, self.idle = base, cap, idle
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        # Supervised: an unexpected error (a locked database past its busy timeout, a bug) is
        # logged, shown in the status and the heartbeat, and the loop comes back after a backoff.
        self.worker = WORKERS.add(Supervised("sync", self._supervised, on_crash=self._crashed))
        self._stop = self.worker.stopping  # one event: a stop is never taken for a crash
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._status = SyncStatus(link=Link.UNKNOWN if client else Link.UNCONFIGURED)
        self._lock = threading.Lock()
        self._failures = 0
        self._last_heartbeat = 0.0
        self._last_purge = 0.0

    # -- any thread ---------------------------------------------------------------------------
    @property
    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    def add_listener(self, listener: Callable[[SyncStatus], None]) -> None:
        self._listeners.append(listener)

    def set_client(self, client: SyncClient) -> None:
        """Point the worker at a platform that became known after it started (the embedded
        one comes up in the background)."""
        self.client = client
        self._update(link=Link.UNKNOWN, last_error=None)
        self._wake.set()

    def wake(self) -> None:
        """Something was recorded: send now (when online; offline, the backoff still holds)."""
        self._wake.set()

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.worker.stop(timeout=15)

    # -- worker thread ------------------------------------------------------------------------
    def _supervised(self, stop: threading.Event) -> None:
        self._run()

    def _crashed(self, exc: BaseException | None) -> None:
        """The loop died: say so where technicians and the header look, without touching the
        store (it may be what failed)."""
        what = f"internal error ({type(exc).__name__})" if exc is not None else "internal error"
        with self._lock:
            self._status = replace(self._status, last_error=what)
        self._publish()

    def _run(self) -> None:
        self._publish()
        while not self._stop.is_set():
            deadline = time.monotonic() + self.run_once()
            while not self._stop.is_set():
                woken = self._wake.wait(max(0.0, deadline - time.monotonic()))
                self._wake.clear()
                if not woken or self.status.link in (Link.ONLINE, Link.UNKNOWN):
                    break
                # Offline, a new transaction waits with the others: the backoff decides when
                # to try again, not the pace at which residents arrive.

    def run_once(self) -> float:
        """One round: push, heartbeat, purge. Returns the seconds to wait before the next."""
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        if self.client is None:
            self._purge()
            self._update(link=Link.UNCONFIGURED, last_error="no platform configured")
            return self.idle
        self._update(last_attempt_at=now)
        try:
            result = self.client.push()
            self._heartbeat()
            self._fetch_config()
        except (TransientError, RefusedError) as exc:
            link = Link.REFUSED if isinstance(exc, RefusedError) else Link.OFFLINE
            delay = full_jitter(self._failures, self._rng, self.base, self.cap)
            asked = exc.retry_after if isinstance(exc, TransientError) else None
            if asked is not None:  # never sooner than the platform asked, within the cap
                delay = min(self.cap, max(delay, asked))
            self._failures += 1
            if self.status.link is not link:
                log.warning("platform %s: %s", link.value, exc)
                self._remember(f"{now} failed: {exc}")
            self._update(link=link, last_error=str(exc), retry_in=delay)
            return delay
        except OutboxError as exc:  # the local database is in trouble: say so, keep trying
            log.error("sync: outbox: %s", exc)
            self._update(last_error=f"outbox: {exc}")
            return self.idle
        if self.status.link is not Link.ONLINE or result.sent:
            if self.status.link is not Link.ONLINE:
                log.info("platform online")
            held = (
                f", {result.awaiting_key} with personal fields waiting for the platform's key"
                if result.awaiting_key
                else ""
            )
            self._remember(
                f"{now} ok: sent {result.sent}, acknowledged {result.acknowledged}, "
                f"dead {result.dead}{held}"
            )
        self._failures = 0
        self._purge()
        self._update(link=Link.ONLINE, last_success_at=now, last_error=None, retry_in=None)
        if result.sent:
            log.info(
                "sync: sent %d, acknowledged %d, dead %d in %d request(s)",
                result.sent, result.acknowledged, result.dead, result.requests,
            )  # fmt: skip
        # Idle, the next round is also the next ask for configuration when that comes sooner.
        return min(self.idle, self.config_seconds) if self.config_offer else self.idle

    def _remember(self, line: str) -> None:
        """The last sync result survives restarts, for technicians (``kiosk queue status``)."""
        try:
            self.store.set_fact("last_sync", line)
        except Exception as exc:  # a note for technicians must never stop delivery
            log.warning("cannot note the last sync result: %s", exc)

    def _fetch_config(self) -> None:
        """Ask for configuration now and then; hand a new bundle to the terminal's updater and
        tell the platform what became of it. The ETag is kept only once the platform has the
        report, so a report lost to the network is made again."""
        if self.client is None:
            return
        if self.config_due is not None:
            due, delivered = self.config_due
            report = due()
            if report is not None:
                self.client.report_config(report)
                delivered(report)
        if self.config_offer is None:
            return
        if self._last_config and time.monotonic() - self._last_config < self.config_seconds:
            return
        etag = self.store.facts().get("config_etag")
        status, new_etag, raw = self.client.fetch_config(etag)
        self._last_config = time.monotonic()
        if status != 200:
            return
        report = self.config_offer(raw)
        self.client.report_config(report)
        if new_etag:
            self.store.set_fact("config_etag", new_etag)

    def check_config_now(self) -> None:
        """Fetch configuration at the next round rather than after the interval."""
        self._last_config = 0.0
        self._wake.set()

    def _heartbeat(self) -> None:
        if self.client is None or self.heartbeat_info is None:
            return
        if time.monotonic() - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        info = dict(self.heartbeat_info())
        status = self.store.status()
        info.setdefault("queue_depth", status.waiting)
        info.setdefault("dead_letters", status.by_state.get("dead", 0))
        if status.oldest_pending_at and "oldest_waiting_seconds" not in info:
            oldest = datetime.fromisoformat(status.oldest_pending_at)
            age = (datetime.now().astimezone() - oldest.astimezone()).total_seconds()
            info["oldest_waiting_seconds"] = round(max(0.0, age), 1)
        info.setdefault("sent_at", datetime.now().astimezone().isoformat())
        self.client.heartbeat(info)
        self._last_heartbeat = time.monotonic()

    def _purge(self) -> None:
        if time.monotonic() - self._last_purge < PURGE_SECONDS and self._last_purge:
            return
        self._last_purge = time.monotonic()
        purged = self.store.purge_personal()
        if purged:
            log.info("purged personal data of %d settled transaction(s)", purged)

    def _update(self, **changes: Any) -> None:
        counts = self.store.status()
        with self._lock:
            self._status = replace(
                self._status, waiting=counts.waiting, dead=counts.by_state["dead"], **changes
            )
        self._publish()

    def _publish(self) -> None:
        status = self.status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:
                log.exception("sync status listener failed")


def describe(status: SyncStatus) -> str:
    """One line for technicians and the CLI."""
    parts = [status.link.value, f"{status.waiting} waiting"]
    if status.dead:
        parts.append(f"{status.dead} dead")
    if status.last_error:
        parts.append(status.last_error)
    return ", ".join(parts)


def dumps_status(status: SyncStatus) -> str:
    return json.dumps({**status.__dict__, "link": status.link.value})
