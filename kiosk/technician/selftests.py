"""Self-tests a technician runs with one touch (or ``kiosk diag selftest``): read a card, print a
test page, the camera, the network and platform, disk space, the outbox.

Each returns a ``SelfTestResult`` with a pass or fail and the reason in plain words, within its
timeout, and never raises. Blocking work: run them on a worker, never on the UI thread. Nothing
personal is ever kept: the card test drops the card as soon as its ID number has been checked.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import queue
import socket
import sqlite3
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from contracts.devices import DeviceKind
from drivers.base import USABLE_STATES, Device, DeviceState
from kiosk.technician.plain_words import problem
from kiosk.technician.redaction import redact_text
from kiosk.technician.snapshot import age_seconds, brief_snapshot, compact_health, heartbeat_info

if TYPE_CHECKING:
    from drivers.idcard_reader import CardEvent, IdCardReader
    from drivers.receipt import Receipt
    from offline.outbox import OutboxStore

log = logging.getLogger(__name__)
T = TypeVar("T")

LAST_RESULTS_FILE = "last-selftests.json"
MIN_FREE_BYTES = 512 * 1024**2
MIN_FREE_FRACTION = 0.05
MAX_CLOCK_SKEW = 60.0  # seconds; beyond this, signed configuration and logs go wrong
CAMERA_SAMPLE_SECONDS = 1.5
_DOWN = frozenset({DeviceState.ABSENT, DeviceState.FAULT})  # with a fault: it says why


@dataclass(frozen=True)
class SelfTestResult:
    name: str
    passed: bool
    summary: str  # plain words, no personal data: what the technician reads
    details: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    skipped: bool = False  # nothing to test here (not configured): passed, but say so
    at: str = ""

    @property
    def verdict(self) -> str:
        return "skip" if self.skipped else "pass" if self.passed else "fail"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": self.verdict,
            "passed": self.passed,
            "skipped": self.skipped,
            "summary": self.summary,
            "details": self.details,
            "duration": round(self.duration, 3),
            "at": self.at,
        }


@dataclass(frozen=True)
class Outcome:
    """What a self-test function returns; the runner adds the name, time and duration."""

    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


def _skip(summary: str, **details: Any) -> Outcome:
    return Outcome(True, summary, details, skipped=True)


class SelfTestTimeout(Exception):
    pass


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self, at_most: float | None = None) -> float:
        left = max(0.0, self.at - time.monotonic())
        return left if at_most is None else min(left, at_most)


def bounded(call: Callable[[], T], seconds: float, name: str) -> T:
    """*call*'s result, or SelfTestTimeout after *seconds*. For blocking calls with no timeout of
    their own (DNS) or a longer one than the test's: the call finishes on its own daemon thread."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"selftest-{name}", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    if worker.is_alive():
        raise SelfTestTimeout(f"did not finish in {seconds:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@dataclass
class SelfTestContext:
    """What the self-tests work on: the running devices, the outbox, where the platform is."""

    data_dir: Path
    devices: Mapping[DeviceKind, Device] = field(default_factory=dict)
    store: OutboxStore | None = None
    central_url: str | None = None
    kiosk_id: str = "kiosk"
    token: str | None = None
    # The health snapshot for the test page's QR code and the heartbeat; default: a brief one.
    snapshot: Callable[[], dict[str, Any]] | None = None

    def device(self, kind: DeviceKind) -> Device | None:
        return self.devices.get(kind)

    def health(self) -> dict[str, Any]:
        if self.snapshot is not None:
            return self.snapshot()
        return brief_snapshot(self.kiosk_id, self.devices.values(), self.store)


SelfTestFunction = Callable[[SelfTestContext, Deadline], Outcome]


@dataclass(frozen=True)
class SelfTest:
    name: str
    run: SelfTestFunction
    timeout: float
    invasive: bool = False  # uses paper or needs a card: not run unless asked for


def _wait_usable(device: Device, seconds: float) -> bool:
    """Wait for *device* to be usable; give up at once when it says why it is not."""
    deadline = time.monotonic() + seconds
    while (st := device.status).state not in USABLE_STATES:
        if time.monotonic() >= deadline or (st.fault is not None and st.state in _DOWN):
            return False
        time.sleep(0.05)
    return True


def _device_problem(device: Device) -> str:
    st = device.status
    code = st.fault.code if st.fault else st.state.value
    return problem(device.kind.value, code)


# -- read a card -------------------------------------------------------------------------------
class _CardTap:
    """One card listener per reader for all card self-tests (a reader cannot drop listeners):
    it hands events to the test waiting now, if any."""

    def __init__(self) -> None:
        self.events: queue.Queue[CardEvent] | None = None

    def __call__(self, event: CardEvent) -> None:
        events = self.events
        if events is not None:
            events.put(event)


_taps: weakref.WeakKeyDictionary[IdCardReader, _CardTap] = weakref.WeakKeyDictionary()
_taps_lock = threading.Lock()


def _tap(reader: IdCardReader) -> _CardTap:
    with _taps_lock:
        tap = _taps.get(reader)
        if tap is None:
            tap = _taps[reader] = _CardTap()
            reader.add_card_listener(tap)
        return tap


def card_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from contracts.id_number import is_valid_id_number
    from drivers.idcard_reader import CardEventKind, IdCardReader
    from drivers.sam_reader import SimulatedSamReader
    from drivers.sim_cards import SAMPLE_CARDS

    reader = ctx.device(DeviceKind.ID_CARD_READER)
    if not isinstance(reader, IdCardReader):
        return _skip("no ID card reader configured")
    where = {"reader": reader.where}
    if not _wait_usable(reader, deadline.left(3.0)):
        return Outcome(False, _device_problem(reader), where)
    tap = _tap(reader)
    events: queue.Queue[CardEvent] = queue.Queue()
    sim = reader if isinstance(reader, SimulatedSamReader) else None
    started = time.monotonic()
    try:
        if sim is not None:
            # Empty the simulated reader long enough for the driver to see it, then lay a card.
            sim.remove()
            time.sleep(min(deadline.left(), 2 * sim.poll_seconds + 0.05))
            tap.events = events
            sim.present(SAMPLE_CARDS[0])
        else:
            tap.events = events
        while True:
            try:
                event = events.get(timeout=deadline.left())
            except queue.Empty:
                return Outcome(
                    False,
                    f"card reader: no card read in {deadline.seconds:.0f} s "
                    "(lay an ID card on the reader, or lift it and lay it again)",
                    where,
                )
            if event.kind is CardEventKind.FAILED and event.fault is not None:
                code = event.fault.code
                return Outcome(False, problem("id_card_reader", code), {**where, "code": code})
            if event.kind is CardEventKind.READ and event.card is not None:
                valid = is_valid_id_number(event.card.id_number)
                del event  # the resident's data goes no further than this check
                details = {**where, "seconds": round(time.monotonic() - started, 2)}
                if valid:
                    return Outcome(True, "card read ok, ID number valid", details)
                return Outcome(False, "card read, but its ID number is not valid", details)
    finally:
        tap.events = None
        if sim is not None:
            sim.remove()


# -- print a test page -------------------------------------------------------------------------
def test_page(qr: str, kiosk_id: str, devices: Iterable[Mapping[str, Any]]) -> Receipt:
    """A bilingual test page whose QR code carries the compact health snapshot."""
    from drivers.receipt import Align, Feed, Qr, Receipt, Rule, Text
    from kiosk.texts import Texts

    zh, en = Texts("zh_CN"), Texts("en")
    when = datetime.now().strftime("%Y-%m-%d %H:%M:%S")

    def both(key: str) -> str:
        return f"{zh(key)} {en(key)}"

    lines: list[Text | Rule | Qr | Feed] = [
        Text(zh("diag.test_page.title"), scale=2, bold=True, align=Align.CENTER),
        Text(en("diag.test_page.title"), bold=True, align=Align.CENTER),
        Rule(),
        Text(zh("diag.test_page.ok")),
        Text(en("diag.test_page.ok")),
        Text(f"{both('diag.test_page.terminal')}: {kiosk_id}"),
        Text(f"{both('diag.test_page.time')}: {when}"),
        Rule(),
    ]
    for row in devices:
        fault = row.get("fault")
        lines.append(
            Text(f"{row['name']}: {row['state']}" + (f" ({fault['code']})" if fault else ""))
        )
    lines += [
        Rule(),
        Qr(qr, module_size=5),
        Text(zh("diag.test_page.scan"), align=Align.CENTER),
        Text(en("diag.test_page.scan"), align=Align.CENTER),
        Feed(1),
    ]
    return Receipt(tuple(lines))


def print_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from drivers.receipt_printer import PrinterError, ReceiptPrinter, StatusCheckedPrinter

    printer = ctx.device(DeviceKind.RECEIPT_PRINTER)
    if not isinstance(printer, ReceiptPrinter):
        return _skip("no receipt printer configured")
    if isinstance(printer, StatusCheckedPrinter):
        # The page's QR code carries the printer's state: make it the state of now (the paper
        # may just have been fixed), not of the last background poll.
        bounded(printer.recheck, deadline.left(), "print")
    snapshot = ctx.health()
    qr = compact_health(snapshot)
    page = test_page(qr, ctx.kiosk_id, snapshot.get("devices") or [])
    details: dict[str, Any] = {"printer": printer.where, "qr_bytes": len(qr.encode())}
    try:
        # Printed whatever state the printer reports: the technician wants to know if it works
        # now, and the driver checks paper and cover before the job anyway.
        bounded(lambda: printer.print_receipt(page), deadline.left(), "print")
    except PrinterError as exc:
        return Outcome(
            False,
            problem("receipt_printer", exc.code),
            {**details, "code": exc.code, "detail": redact_text(exc.detail)},
        )
    return Outcome(True, "test page printed (scan its QR code for this terminal's health)", details)


# -- camera ------------------------------------------------------------------------------------
def camera_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from drivers.camera import OpenCvCamera

    camera = ctx.device(DeviceKind.CAMERA)
    if not isinstance(camera, OpenCvCamera):
        return _skip("no camera configured")
    details: dict[str, Any] = {"source": camera.where}
    stamps: list[float] = []
    unsubscribe = camera.subscribe(lambda _no, _frame: stamps.append(time.monotonic()))
    try:
        sample = min(CAMERA_SAMPLE_SECONDS, deadline.seconds / 2)
        while not stamps and deadline.left() > sample:
            st = camera.status
            if st.fault is not None and st.state in _DOWN:
                break  # it says why there is no picture: no need to wait for the deadline
            time.sleep(0.02)
        if stamps:
            time.sleep(deadline.left(sample))
    finally:
        unsubscribe()
    if len(stamps) < 2:
        st = camera.status
        code = st.fault.code if st.fault else "no_frames"
        return Outcome(False, problem("camera", code), {**details, "code": code})
    span = stamps[-1] - stamps[0]
    fps = (len(stamps) - 1) / span if span > 0 else 0.0
    _, frame = camera.latest_frame()
    if frame is None:
        return Outcome(False, problem("camera", "no_frames"), details)
    from drivers.vision import decode_qr, detect_faces

    faces = detect_faces(frame)
    codes = decode_qr(frame)
    details.update(
        fps=round(fps, 1),
        width=int(frame.shape[1]),
        height=int(frame.shape[0]),
        faces=len(faces),
        qr_codes=len(codes),  # how many, never what they say: a resident's code is theirs
    )
    st = camera.status
    if st.state is DeviceState.DEGRADED and st.fault is not None:
        return Outcome(False, problem("camera", st.fault.code), {**details, "code": st.fault.code})
    face_words = f"{len(faces)} face{'s' if len(faces) != 1 else ''}"
    qr_words = f"{len(codes)} QR code{'s' if len(codes) != 1 else ''}" if codes else "no QR code"
    return Outcome(
        True,
        f"camera ok: {fps:.0f} fps, {frame.shape[1]}x{frame.shape[0]}, {face_words}, {qr_words}",
        details,
    )


# -- network and platform ----------------------------------------------------------------------
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
        return _skip("no platform configured ([central] url)")
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


# -- disk --------------------------------------------------------------------------------------
def _gib(n: float) -> str:
    return f"{n / 1024**3:.1f} GB"


def disk_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from kiosk.technician.snapshot import disk_usage

    usage = disk_usage(ctx.data_dir)
    if "error" in usage:
        return Outcome(False, f"disk: cannot read free space ({usage['error']})", usage)
    # A file system remounted read-only is a classic field failure: write, sync, remove.
    probe = ctx.data_dir / f".selftest-{os.getpid()}"
    try:
        ctx.data_dir.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as f:
            f.write(b"kiosk self-test\n")
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
        usage["writable"] = True
    except OSError as exc:
        usage["writable"] = False
        return Outcome(False, f"disk: the data directory is not writable ({exc.strerror})", usage)
    free, total = usage["free_bytes"], usage["total_bytes"]
    words = f"{_gib(free)} free of {_gib(total)} ({100 * usage['free_fraction']:.0f}%)"
    if free < MIN_FREE_BYTES or usage["free_fraction"] < MIN_FREE_FRACTION:
        return Outcome(False, f"disk: nearly full, {words}", usage)
    return Outcome(True, f"disk ok: {words}", usage)


# -- outbox ------------------------------------------------------------------------------------
def _integrity(path: Path, deadline: Deadline) -> str:
    """``PRAGMA integrity_check``'s first line, on a read-only connection, cut off at the
    deadline (a large database takes a while)."""
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=deadline.left(5.0)
        )
    except sqlite3.OperationalError:  # a WAL database read-only needs its -shm: open it normally
        conn = sqlite3.connect(path, timeout=deadline.left(5.0))
    try:
        conn.set_progress_handler(lambda: int(deadline.left() <= 0), 10_000)
        row = conn.execute("PRAGMA integrity_check(1)").fetchone()
        return str(row[0]) if row else "no answer"
    finally:
        conn.close()


def outbox_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from kiosk.technician.snapshot import outbox_stats

    path = ctx.store.path if ctx.store is not None else ctx.data_dir / "kiosk.db"
    if not path.exists():
        return _skip("no outbox database yet (nothing recorded on this terminal)")
    try:
        verdict = _integrity(path, deadline)
    except sqlite3.Error as exc:
        reason = "did not finish in time" if "interrupt" in str(exc) else str(exc)
        return Outcome(False, f"outbox: integrity check failed ({reason})", {"database": str(path)})
    details: dict[str, Any] = {"database": str(path), "integrity": verdict}
    if verdict != "ok":
        return Outcome(False, f"outbox: database damaged ({redact_text(verdict)})", details)
    if ctx.store is None:
        return Outcome(True, "outbox database intact", details)
    stats = outbox_stats(ctx.store)
    stats.pop("dead_letters", None)
    details.update(stats)
    dead = stats["by_state"]["dead"]
    words = f"{stats['waiting']} waiting"
    age = age_seconds(stats["oldest_pending_at"])
    if age is not None:
        words += f" (oldest {_age_words(age)})"
    words += f", {dead} dead letter{'s' if dead != 1 else ''}"
    if stats["capacity_warning"]:
        return Outcome(False, f"outbox: {100 * stats['capacity_used']:.0f}% full; {words}", details)
    return Outcome(True, f"outbox ok: database intact, {words}", details)


def _age_words(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


# -- running them ------------------------------------------------------------------------------
SELFTESTS: dict[str, SelfTest] = {
    t.name: t
    for t in (
        SelfTest("card", card_selftest, timeout=20.0, invasive=True),
        SelfTest("print", print_selftest, timeout=15.0, invasive=True),
        SelfTest("camera", camera_selftest, timeout=6.0),
        SelfTest("network", network_selftest, timeout=15.0),
        SelfTest("disk", disk_selftest, timeout=5.0),
        SelfTest("outbox", outbox_selftest, timeout=15.0),
    )
}


def run_selftest(
    name: str, ctx: SelfTestContext, *, timeout: float | None = None
) -> SelfTestResult:
    """Run one self-test by name. Never raises: an error or a timeout is a failed result."""
    test = SELFTESTS.get(name)
    at = datetime.now().astimezone().isoformat(timespec="seconds")
    if test is None:
        return SelfTestResult(name, False, f"no such self-test {name!r}", at=at)
    deadline = Deadline(timeout if timeout is not None else test.timeout)
    started = time.monotonic()
    try:
        outcome = test.run(ctx, deadline)
    except SelfTestTimeout as exc:
        outcome = Outcome(False, f"{name}: {exc}")
    except Exception as exc:
        log.exception("self-test %s failed with an error", name)
        outcome = Outcome(False, f"{name}: error: {redact_text(f'{type(exc).__name__}: {exc}')}")
    return SelfTestResult(
        name,
        outcome.passed,
        outcome.summary,
        outcome.details,
        time.monotonic() - started,
        outcome.skipped,
        at,
    )


def run_selftests(names: Iterable[str] | None, ctx: SelfTestContext) -> list[SelfTestResult]:
    """The named self-tests in order; all of them when *names* is None."""
    return [run_selftest(name, ctx) for name in (SELFTESTS if names is None else names)]


def save_last(data_dir: Path, results: Iterable[SelfTestResult]) -> None:
    """Keep the latest result of each self-test (merged with earlier ones) for the bundle."""
    path = data_dir / "diagnostics" / LAST_RESULTS_FILE
    kept = {r["name"]: r for r in load_last(data_dir)}
    kept.update({r.name: r.as_json() for r in results})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(list(kept.values()), ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot keep the self-test results in %s: %s", path, exc)


def load_last(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "diagnostics" / LAST_RESULTS_FILE
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(loaded, list):
        return []
    return [r for r in loaded if isinstance(r, dict) and "name" in r]
