"""``kiosk-central loadtest``: a simulated fleet of terminals driving a running platform, to size
it: how many heartbeats and transactions per second it sustains, and how fast it answers.

Two phases, one after the other:

- **fleet**: N terminals as they behave, each sending a heartbeat every 30 to 60 s and a batch of
  visits every 30 to 60 s (both jittered), each request on a new connection as today's terminal
  sends it (an idle keep-alive would be closed by the server long before the next one). Its
  latencies are what a fleet of that size sees; its rates are what the fleet asks, not what the
  platform could do.
- **saturation**: C terminals in a closed loop on keep-alive connections, each sending its next
  request as soon as the last is answered, heartbeats and batches mixed in a fixed ratio: the
  platform's capacity, and its latency at that concurrency.

The HTTP client is a small HTTP/1.1 one on asyncio streams (keep-alive, Content-Length bodies,
which is what the platform sends), so that the generator, sharing the machine with the server,
spends as little CPU per request as it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

LOAD_GROUP = "loadtest"
CONNECT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0


class LoadTestError(Exception):
    """The load test cannot run (bad URL, platform unreachable); one line."""


@dataclass(frozen=True)
class Terminal:
    kiosk_id: str
    token: str


def fleet_ids(count: int) -> list[str]:
    return [f"{LOAD_GROUP}-{n:05d}" for n in range(1, count + 1)]


# -- the client ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    context: ssl.SSLContext | None

    @classmethod
    def of(cls, url: str, ca_file: str | None) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LoadTestError(f"--url {url!r} is not an http(s) URL")
        context = None
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=ca_file)
        return cls(parts.hostname, parts.port or (443 if context else 80), context)


class Connection:
    """One HTTP/1.1 connection, kept alive between requests and reopened when closed."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.host_header = f"Host: {target.host}:{target.port}\r\n".encode()

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(
                self.target.host,
                self.target.port,
                ssl=self.target.context,
                server_hostname=self.target.host if self.target.context else None,
            ),
            CONNECT_TIMEOUT,
        )

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        """POST a JSON body; (status, body). Raises OSError/TimeoutError on a transport error
        (the connection is closed then)."""
        if self._writer is None:
            await self._open()
        assert self._reader is not None and self._writer is not None
        head = (
            f"POST {path} HTTP/1.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()
        self._writer.write(head + self.host_header + b"\r\n" + body)
        try:
            return await asyncio.wait_for(self._answer(), REQUEST_TIMEOUT)
        except BaseException:
            await self.close()
            raise

    async def _answer(self) -> tuple[int, bytes]:
        assert self._reader is not None
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, close = 0, False
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self._reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, body


# -- what a terminal sends ----------------------------------------------------------------------

DEVICES = [
    {"name": "id_reader", "kind": "id_card", "driver": "sam-serial", "state": "ready"},
    {"name": "printer", "kind": "printer", "driver": "escpos-usb", "state": "ready"},
    {"name": "camera", "kind": "camera", "driver": "opencv", "state": "ready"},
    {"name": "smart_card", "kind": "smart_card", "driver": "pcsc", "state": "ready"},
]


def heartbeat_body(queue_depth: int) -> bytes:
    return orjson.dumps(
        {
            "app_version": "loadtest",
            "devices": DEVICES,
            "queue_depth": queue_depth,
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "workers": [{"name": "sync", "state": "running"}],
        }
    )


class Sequences:
    """Each simulated terminal's next sequence number (its outbox's)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, kiosk_id: str, count: int) -> range:
        first = self._next.get(kiosk_id, 1)
        self._next[kiosk_id] = first + count
        return range(first, first + count)


def batch_body(seqs: range, rng: random.Random) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    items = [
        {
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "seq": seq,
            "service": "queue_ticket",
            "payload": {"ticket": f"A{seq % 999 + 1:03d}", "window": "1", "rating": 5},
            "created_at": now,
        }
        for seq in seqs
    ]
    return orjson.dumps({"items": items})


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one kind of request did in a phase."""

    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # transport errors by kind
    items: int = 0  # transactions the platform accepted (batches)

    def answered(self, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def failed(self, exc: BaseException) -> None:
        kind = type(exc).__name__
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    def percentile(self, fraction: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class PhaseResult:
    name: str
    seconds: float
    terminals: int
    heartbeat: Tally = field(default_factory=Tally)
    batch: Tally = field(default_factory=Tally)

    def summary(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        everything = Tally(latencies=self.heartbeat.latencies + self.batch.latencies)
        not_ok = {
            str(code): n
            for tally in (self.heartbeat, self.batch)
            for code, n in tally.statuses.items()
            if code != 200
        }
        return {
            "phase": self.name,
            "terminals": self.terminals,
            "seconds": round(self.seconds, 1),
            "heartbeats_per_s": round(self.heartbeat.ok / self.seconds, 1),
            "transactions_per_s": round(self.batch.items / self.seconds, 1),
            "batches_per_s": round(self.batch.ok / self.seconds, 1),
            "heartbeat_p50_ms": ms(self.heartbeat.percentile(0.50)),
            "heartbeat_p99_ms": ms(self.heartbeat.percentile(0.99)),
            "batch_p50_ms": ms(self.batch.percentile(0.50)),
            "batch_p99_ms": ms(self.batch.percentile(0.99)),
            "p50_ms": ms(everything.percentile(0.50)),
            "p99_ms": ms(everything.percentile(0.99)),
            "not_200": not_ok,
            "errors": {**self.heartbeat.errors, **self.batch.errors},
        }


async def _send(
    conn: Connection,
    terminal: Terminal,
    kind: str,
    body: bytes,
    result: PhaseResult,
    counting: Callable[[], bool],
) -> None:
    tally = result.heartbeat if kind == "heartbeat" else result.batch
    path = f"/v1/kiosks/{terminal.kiosk_id}/{'heartbeat' if kind == 'heartbeat' else 'batches'}"
    started = time.perf_counter()
    try:
        status, answer = await conn.post(path, body, terminal.token)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ssl.SSLError, ValueError) as exc:
        if counting():
            tally.failed(exc)
        return
    if not counting():
        return
    tally.answered(status, time.perf_counter() - started)
    if kind == "batch" and status == 200:
        results = orjson.loads(answer).get("results", [])
        tally.items += sum(1 for r in results if r.get("status") in ("accepted", "duplicate"))


# -- the phases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FleetPlan:
    heartbeat_every: tuple[float, float] = (30.0, 60.0)
    batch_every: tuple[float, float] = (30.0, 60.0)
    batch_items: tuple[int, int] = (1, 10)


async def fleet_phase(
    target: Target,
    terminals: Sequence[Terminal],
    seconds: float,
    plan: FleetPlan,
    rng: random.Random,
    sequences: Sequences,
) -> PhaseResult:
    """Every terminal on its own schedule, a new connection per request, for *seconds* (the
    first interval of each is spread at random, as a fleet's clocks are)."""
    result = PhaseResult("fleet", seconds, len(terminals))
    deadline = time.monotonic() + seconds

    def counting() -> bool:
        return time.monotonic() < deadline

    async def one_kind(terminal: Terminal, kind: str, every: tuple[float, float]) -> None:
        await asyncio.sleep(rng.uniform(0.0, every[1]))
        while time.monotonic() < deadline:
            if kind == "heartbeat":
                body = heartbeat_body(0)
            else:
                count = rng.randint(*plan.batch_items)
                body = batch_body(sequences.take(terminal.kiosk_id, count), rng)
            conn = Connection(target)
            try:
                await _send(conn, terminal, kind, body, result, counting)
            finally:
                await conn.close()
            await asyncio.sleep(rng.uniform(*every))

    tasks = [
        asyncio.ensure_future(one_kind(terminal, kind, every))
        for terminal in terminals
        for kind, every in (("heartbeat", plan.heartbeat_every), ("batch", plan.batch_every))
    ]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


@dataclass(frozen=True)
class SaturationPlan:
    concurrency: int = 16
    batch_items: int = 100
    # 33 heartbeats to a batch of 100 items: the goal's 1,000 heartbeats beside 3,000 tx a second
    heartbeats_per_batch: float = 33.0


async def saturation_phase(
    target: Target,
    terminals: Sequence[Terminal],
    seconds: float,
    plan: SaturationPlan,
    rng: random.Random,
    sequences: Sequences,
    warmup: float = 2.0,
) -> PhaseResult:
    """*plan.concurrency* loops, each on its keep-alive connection, sending as fast as the
    platform answers, the terminals taken in turn; measured after *warmup* seconds.

    The connections are opened one after the other, each answered once before the next: a
    server's worker accepts every connection waiting when it wakes, so opened all at once they
    would all land on one worker, which terminals (a connection per request) never do."""
    result = PhaseResult("saturation", seconds, plan.concurrency)
    turn = itertools.cycle(terminals)
    batch_share = 1.0 / (1.0 + plan.heartbeats_per_batch)
    connections = [Connection(target) for _ in range(plan.concurrency)]
    for conn in connections:
        terminal = next(turn)
        await _send(conn, terminal, "heartbeat", heartbeat_body(0), result, lambda: False)
    start = time.monotonic() + warmup
    deadline = start + seconds

    def counting() -> bool:
        return start <= time.monotonic() < deadline

    async def loop(conn: Connection) -> None:
        try:
            while time.monotonic() < deadline:
                terminal = next(turn)
                if rng.random() < batch_share:
                    seqs = sequences.take(terminal.kiosk_id, plan.batch_items)
                    await _send(conn, terminal, "batch", batch_body(seqs, rng), result, counting)
                else:
                    await _send(conn, terminal, "heartbeat", heartbeat_body(0), result, counting)
        finally:
            await conn.close()

    await asyncio.gather(*(loop(conn) for conn in connections))
    return result


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # the server's loop too, where installed: less CPU per request
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run(
    url: str,
    terminals: Sequence[Terminal],
    *,
    ca_file: str | None,
    fleet_seconds: float,
    saturation_seconds: float,
    fleet: FleetPlan,
    saturation: SaturationPlan,
    seed: int,
) -> list[PhaseResult]:
    target = Target.of(url, ca_file)
    rng = random.Random(seed)
    sequences = Sequences()

    async def main() -> list[PhaseResult]:
        await _reachable(target, terminals[0])
        done = []
        if fleet_seconds > 0:
            done.append(await fleet_phase(target, terminals, fleet_seconds, fleet, rng, sequences))
        if saturation_seconds > 0:
            done.append(
                await saturation_phase(
                    target, terminals, saturation_seconds, saturation, rng, sequences
                )
            )
        return done

    loop = new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


async def _reachable(target: Target, terminal: Terminal) -> None:
    conn = Connection(target)
    try:
        status, answer = await conn.post(
            f"/v1/kiosks/{terminal.kiosk_id}/heartbeat", heartbeat_body(0), terminal.token
        )
    except (OSError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
        where = f"{target.host}:{target.port}"
        raise LoadTestError(f"cannot reach the platform at {where}: {exc}") from None
    finally:
        await conn.close()
    if status != 200:
        detail = answer[:200].decode("utf-8", "replace")
        raise LoadTestError(f"the platform refuses the first terminal: HTTP {status} {detail}")


def report(results: Sequence[PhaseResult]) -> str:
    """The figures as a table a person reads."""
    lines = [
        f"{'phase':<11}{'terminals':>10}{'hb/s':>9}{'tx/s':>9}{'hb p50':>9}{'hb p99':>9}"
        f"{'batch p50':>11}{'batch p99':>11}{'all p99':>9}  not 200 / errors"
    ]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for result in results:
        s = result.summary()
        problems = {**s["not_200"], **s["errors"]}
        trouble = json.dumps(problems) if problems else "-"
        lines.append(
            f"{s['phase']:<11}{s['terminals']:>10}{s['heartbeats_per_s']:>9.1f}"
            f"{s['transactions_per_s']:>9.1f}{ms(s['heartbeat_p50_ms']):>9}"
            f"{ms(s['heartbeat_p99_ms']):>9}{ms(s['batch_p50_ms']):>11}"
            f"{ms(s['batch_p99_ms']):>11}{ms(s['p99_ms']):>9}  {trouble}"
        )
    return "\n".join(lines)
