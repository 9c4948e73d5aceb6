"""Diagnostics without Qt: technician PINs and lockout, redaction at the source, device counters,
self-tests, the health snapshot and the bundle."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contracts.device_kinds import DeviceKind
from drivers.base import Device, DeviceState
from drivers.receipt_printer import SimulatedReceiptPrinter
from drivers.sim_cards import SAMPLE_CARDS
from kiosk.config.settings import load_settings
from kiosk.logs import setup_logging, tail_logs
from kiosk.technician.access import (
    AUDIT_SERVICE,
    AuditTrail,
    LockoutPolicy,
    PinError,
    TechnicianGate,
    check_pin,
    hash_pin,
    verify_any,
    verify_pin,
)
from kiosk.technician.devices import device_row
from kiosk.technician.diag_bundle import BUNDLE_FILES, write_bundle
from kiosk.technician.redaction import (
    ID_MASK,
    PERSONAL_MASK,
    PHONE_MASK,
    SECRET_MASK,
    forget_personal,
    redact_config,
    redact_data,
    redact_text,
    remember_personal,
)
from kiosk.technician.selftests import (
    SelfTestContext,
    SelfTestTimeout,
    bounded,
    load_last,
    run_selftest,
    save_last,
)
from kiosk.technician.snapshot import compact_health, health_snapshot
from offline.outbox import OutboxStore
from tests.waiting import wait_for

FAST = {"n": 2**10, "r": 8, "p": 1}  # scrypt cheap enough for many tests; the format is the same
CARD = SAMPLE_CARDS[0]
PHONE = "13812345678"


@pytest.fixture
def json_logs(tmp_path: Path) -> Iterator[Path]:
    """The terminal's logging into tmp_path/logs, undone afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    log_dir = tmp_path / "logs"
    setup_logging(log_dir)
    yield log_dir
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    forget_personal()


# -- PINs ----------------------------------------------------------------------------------------
def test_pin_hash_line_and_verification() -> None:
    line = hash_pin("204863")
    scheme, n, r, p, salt, digest = line.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(salt) == 24 and len(digest) == 44  # 16 and 32 bytes in base64
    assert verify_pin("204863", line)
    assert not verify_pin("204864", line)
    assert hash_pin("204863") != line  # salted


@pytest.mark.parametrize(
    "line",
    [
        "",
        "plain",
        "scrypt$16384$8$1$c2FsdA==",
        "scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",  # n not a power of two
        "scrypt$1048576$64$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",  # 8 GiB: refused
        "scrypt$16384$8$1$!!!$aGFzaGhhc2hoYXNoaGFzaA==",
        "bcrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
    ],
)
def test_a_malformed_hash_line_matches_nothing(line: str) -> None:
    assert not verify_pin("204863", line)


def test_any_of_several_pins() -> None:
    lines = [hash_pin("111111", **FAST), hash_pin("222222", **FAST)]
    assert verify_any("222222", lines) and verify_any("111111", lines)
    assert not verify_any("333333", lines) and not verify_any("111111", [])


@pytest.mark.parametrize("pin", ["123", "12a456", "", "１２３４５６", "1" * 17])
def test_pins_are_4_to_16_ascii_digits(pin: str) -> None:
    with pytest.raises(PinError):
        check_pin(pin)


# -- lockout -------------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def fail(policy: LockoutPolicy, times: int) -> list[float]:
    return [policy.record_failure() for _ in range(times)]


def test_five_wrong_pins_lock_for_a_growing_period(tmp_path: Path) -> None:
    clock = Clock()
    policy = LockoutPolicy(tmp_path / "lock.json", clock=clock, cap=100)
    assert fail(policy, 5) == [0, 0, 0, 0, 30]
    assert policy.remaining() == 30
    clock.now += 29
    assert policy.remaining() == pytest.approx(1)
    clock.now += 1
    assert policy.remaining() == 0 and policy.attempts_left() == 5
    assert fail(policy, 5)[-1] == 60  # the second lock in a row lasts twice as long
    clock.now += 60
    assert fail(policy, 5)[-1] == 100  # capped (120 without the cap)
    clock.now += 100
    policy.record_success()
    assert fail(policy, 5)[-1] == 30  # a right PIN starts the growth again


def test_the_lockout_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "lock.json"
    fail(LockoutPolicy(path, clock=clock), 3)
    restarted = LockoutPolicy(path, clock=clock)
    assert restarted.attempts_left() == 2
    assert fail(restarted, 2)[-1] == 30
    clock.now += 10
    assert LockoutPolicy(path, clock=clock).remaining() == 20


def test_a_clock_set_back_does_not_lengthen_the_lock(tmp_path: Path) -> None:
    clock = Clock()
    policy = LockoutPolicy(tmp_path / "lock.json", clock=clock)
    fail(policy, 5)
    clock.now -= 365 * 86400
    assert policy.remaining() == 30


def test_an_unreadable_lockout_file_locks(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    path.write_text("{not json", encoding="utf-8")
    assert LockoutPolicy(path, clock=Clock()).remaining() == 30


class Recorder:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, service: str, payload: dict[str, Any]) -> None:
        self.records.append((service, payload))


def test_the_gate_locks_and_audits_without_the_pin(tmp_path: Path) -> None:
    clock = Clock()
    recorder = Recorder()
    audit = AuditTrail(recorder)
    gate = TechnicianGate(
        [hash_pin("204863", **FAST)], LockoutPolicy(tmp_path / "l.json", clock=clock), audit
    )
    decisions = [gate.try_pin(pin) for pin in ("111111", "22", "333333", "444444")]
    assert [d.reason for d in decisions] == ["wrong_pin"] * 4
    assert [d.attempts_left for d in decisions] == [4, 3, 2, 1]
    last = gate.try_pin("555555")
    assert (last.granted, last.reason, last.locked_seconds) == (False, "locked", 30)
    assert gate.try_pin("204863").reason == "locked"  # even the right PIN waits
    clock.now += 30
    granted = gate.try_pin("204863")
    assert granted.granted and granted.reason == "granted"
    audit.action("selftest", name="print", passed=False)
    audit.exit("left")
    events = [(s, p["event"]) for s, p in recorder.records]
    assert events == [(AUDIT_SERVICE, "denied")] * 5 + [
        (AUDIT_SERVICE, "entry"),
        (AUDIT_SERVICE, "action"),
        (AUDIT_SERVICE, "exit"),
    ]
    session = recorder.records[5][1]["session"]
    assert all(p["session"] == session for _, p in recorder.records[5:])
    text = json.dumps([p for _, p in recorder.records])
    for pin in ("111111", "333333", "204863"):
        assert pin not in text


def test_no_pins_configured_lets_nobody_in(tmp_path: Path) -> None:
    gate = TechnicianGate([], LockoutPolicy(tmp_path / "l.json"))
    assert gate.try_pin("204863").reason == "no_pins_configured"


def test_the_audit_goes_through_the_outbox(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db")
    try:
        audit = AuditTrail(store)
        audit.entry("pin")
        audit.action("bundle", path="/data/diagnostics/b.zip")
        audit.exit("timeout")
        batch = store.take_batch(10)
    finally:
        store.close()
    assert [(b.service, b.payload["event"]) for b in batch] == [
        ("technician_audit", "entry"),
        ("technician_audit", "action"),
        ("technician_audit", "exit"),
    ]


# -- redaction -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"card {CARD.id_number} read", f"card {ID_MASK} read"),
        ("id=11010119900618024x;", f"id={ID_MASK};"),  # a lower-case check character too
        ("id 110101199006180240 (wrong check digit)", f"id {ID_MASK} (wrong check digit)"),
        (f"call {PHONE} now", f"call {PHONE_MASK} now"),
        ("tel:+86 138 1234 5678.", f"tel:{PHONE_MASK}."),
        ("138-1234-5678", PHONE_MASK),
        # Not personal: longer numbers, UUIDs (with digit runs), byte counts of 10 digits
        ("ts=1732354862123456789", "ts=1732354862123456789"),
        (
            "uuid=01a20885-66ba-7276-a18e-138123456789",
            "uuid=01a20885-66ba-7276-a18e-138123456789",
        ),
        ("size 1234567890 bytes", "size 1234567890 bytes"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    forget_personal()  # the patterns alone: no value an earlier visit left remembered
    assert redact_text(text) == expected


def test_known_values_are_masked_until_forgotten() -> None:
    remember_personal(CARD.name, CARD.address, "x", None)
    try:
        assert (
            redact_text(f"{CARD.name} at {CARD.address}") == f"{PERSONAL_MASK} at {PERSONAL_MASK}"
        )
        assert redact_text("x marks") == "x marks"  # one character is never masked
    finally:
        forget_personal()
    assert redact_text(CARD.name) == CARD.name


def test_redact_data_masks_personal_fields_and_leaves_numbers() -> None:
    data = {
        "name": CARD.name,
        "note": f"phone {PHONE}",
        "bytes": 13812345678,
        "rows": [CARD.id_number],
    }
    assert redact_data(data) == {
        "name": PERSONAL_MASK,
        "note": f"phone {PHONE_MASK}",
        "bytes": 13812345678,
        "rows": [ID_MASK],
    }


def test_the_log_file_is_json_lines_without_personal_data(json_logs: Path) -> None:
    log = logging.getLogger("kiosk.visit.controller")
    remember_personal(CARD.name)
    log.info("visit 3: card read for %s, id %s, phone %s", CARD.name, CARD.id_number, PHONE)
    log.info("resident %s", {"name": CARD.name, "id_number": CARD.id_number, "option": "general"})
    log.warning("fields %(id_number)s", {"id_number": CARD.id_number})
    try:
        raise ValueError(f"bad record for {CARD.id_number}")
    except ValueError:
        log.exception("read failed")
    logging.getLogger("drivers.receipt_printer").warning("paper out")
    logging.getLogger("kiosk.cli").info("about a device", extra={"device": "camera"})
    raw = (json_logs / "kiosk.jsonl").read_text("utf-8")
    for secret in (CARD.name, CARD.id_number, PHONE):
        assert secret not in raw
    entries = [json.loads(line) for line in raw.splitlines()]
    assert {"ts", "level", "logger", "message"} <= set(entries[0])
    assert entries[0]["message"] == (
        f"visit 3: card read for {PERSONAL_MASK}, id {ID_MASK}, phone {PHONE_MASK}"
    )
    assert "'name': '[personal]'" in entries[1]["message"]
    assert "'option': 'general'" in entries[1]["message"]
    assert entries[2]["message"] == f"fields {PERSONAL_MASK}"
    assert "ValueError: bad record for [id-number]" in entries[3]["exc"]
    assert entries[4]["device"] == "receipt_printer"
    assert entries[5]["device"] == "camera"


def test_tail_logs_filters_and_reads_across_rotation(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    log_dir = tmp_path / "logs"
    setup_logging(log_dir, max_bytes=2000, backups=3)
    try:
        log = logging.getLogger("drivers.camera")
        for i in range(40):
            log.info("frame batch %d", i)
            if i % 10 == 0:
                logging.getLogger("kiosk.visit.controller").warning("visit warning %d", i)
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
    assert (log_dir / "kiosk.jsonl.1").exists()
    with (log_dir / "kiosk.jsonl").open("a", encoding="utf-8") as f:
        f.write("not json\n[1]\n")
    last = tail_logs(log_dir, n=25, device="camera")
    assert [e["message"] for e in last] == [f"frame batch {i}" for i in range(15, 40)]
    warnings = tail_logs(log_dir, level="warning")
    assert [e["message"] for e in warnings][-2:] == ["visit warning 20", "visit warning 30"]
    assert tail_logs(log_dir, n=0) == [] and tail_logs(tmp_path / "none") == []
    with pytest.raises(ValueError):
        tail_logs(log_dir, level="loud")


def test_setup_logging_twice_keeps_one_file_handler(json_logs: Path) -> None:
    setup_logging(json_logs)
    logging.getLogger("kiosk").info("once")
    lines = (json_logs / "kiosk.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["once"]


# -- device counters -----------------------------------------------------------------------------
class FakeReader(Device):
    kind = DeviceKind.ID_CARD_READER
    driver = "fake"

    @property
    def where(self) -> str:
        return "/dev/ttyUSB0"

    def go(self, state: DeviceState, code: str | None = None, detail: str = "") -> None:
        self._set_state(
            state, self.fault(code, "device.reader_unavailable", detail) if code else None
        )


def test_counters_faults_reconnects_and_last_fault() -> None:
    dev = FakeReader("reader")
    calls: list[DeviceState] = []
    dev.add_listener(lambda st: calls.append(st.state))
    dev.go(DeviceState.CONNECTING)
    dev.go(DeviceState.READY)  # the first time: not a reconnect
    dev.count_operation()
    dev.go(DeviceState.FAULT, "timeout", "no answer in 1.0 s")
    dev.go(DeviceState.FAULT, "timeout", "no answer in 1.0 s")  # a poll seeing it again
    dev.go(DeviceState.CONNECTING)
    dev.go(DeviceState.FAULT, "timeout", "no answer in 1.0 s")  # the retry fails the same way
    dev.go(DeviceState.ABSENT, "open_failed", "unplugged")  # a different fault
    dev.go(DeviceState.CONNECTING)
    dev.go(DeviceState.READY)
    dev.count_operation(2)
    assert dev.counters() | {"since": None} == {
        "operations": 3,
        "faults": 2,
        "reconnects": 1,
        "since": None,
    }
    assert calls.count(DeviceState.FAULT) == 2  # the repeated fault told nobody
    row = device_row(dev)
    assert row["state"] == "ready" and row["fault"] is None and row["problem"] is None
    assert row["where"] == "/dev/ttyUSB0" and row["driver"] == "fake"
    assert row["last_fault"]["code"] == "open_failed"  # kept after recovery
    assert row["last_fault"]["words"] == "card reader: cannot open its port (unplugged?)"
    dev.go(DeviceState.FAULT, "open_failed", "unplugged")  # after READY: a new fault
    assert dev.counters()["faults"] == 3
    assert device_row(dev)["problem"] == "card reader: cannot open its port (unplugged?)"


def test_count_operation_is_thread_safe() -> None:
    dev = FakeReader("reader")
    threads = [
        threading.Thread(target=lambda: [dev.count_operation() for _ in range(2000)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert dev.counters()["operations"] == 8000


# -- self-tests ----------------------------------------------------------------------------------
@pytest.fixture
def printer(tmp_path: Path) -> Iterator[SimulatedReceiptPrinter]:
    dev = SimulatedReceiptPrinter(
        "receipt_printer", tmp_path / "printer", faults=frozenset({"paper_out"})
    )
    dev.start()
    yield dev
    dev.stop()


def test_print_selftest_paper_out_then_fixed(
    tmp_path: Path, printer: SimulatedReceiptPrinter
) -> None:
    """Given a printer out of paper, when the technician runs the print self-test, it fails with
    "printer: paper out"; after the paper is fixed, the same test passes and the page's QR code
    carries the health snapshot."""
    from drivers.vision import decode_qr

    ctx = SelfTestContext(tmp_path, {DeviceKind.RECEIPT_PRINTER: printer}, kiosk_id="kiosk-test-7")
    failed = run_selftest("print", ctx)
    assert (failed.passed, failed.summary) == (False, "printer: paper out")
    assert failed.details["code"] == "paper_out"
    printer.inject("paper_out", False)
    passed = run_selftest("print", ctx)
    assert passed.passed, passed.summary
    wait_for(lambda: printer.sink.jobs == 1)  # the sink files a job when its connection closes
    assert printer.counters()["operations"] == 1
    assert printer.last_fault is not None and printer.last_fault.code == "paper_out"
    import cv2

    image = cv2.imread(str(printer.last_preview_path))
    (text,) = decode_qr(image)
    health = json.loads(text)
    assert health["k"] == "kiosk-test-7"
    assert health["d"] == {"receipt_printer": "ready"}


def test_selftests_never_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.technician import selftests

    def broken(ctx: SelfTestContext, deadline: Any) -> Any:
        raise RuntimeError(f"oops {CARD.id_number}")

    monkeypatch.setitem(selftests.SELFTESTS, "disk", selftests.SelfTest("disk", broken, timeout=1))
    result = run_selftest("disk", SelfTestContext(tmp_path))
    assert not result.passed and result.summary == "disk: error: RuntimeError: oops [id-number]"
    assert not run_selftest("frobnicate", SelfTestContext(tmp_path)).passed
    with pytest.raises(SelfTestTimeout):
        bounded(lambda: threading.Event().wait(0.5), 0.05, "slow")


def test_unconfigured_devices_and_platform_are_skipped(tmp_path: Path) -> None:
    ctx = SelfTestContext(tmp_path)
    for name in ("card", "print", "camera", "network", "outbox"):
        result = run_selftest(name, ctx)
        assert result.passed and result.skipped and result.verdict == "skip", name


def test_disk_and_outbox_selftests(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "kiosk.db")
    try:
        store.record("queue_ticket", {"option": "general"}, personal={"name": CARD.name})
        ctx = SelfTestContext(tmp_path, store=store)
        disk = run_selftest("disk", ctx)
        outbox = run_selftest("outbox", ctx)
    finally:
        store.close()
    assert disk.passed and disk.details["writable"], disk.summary
    assert outbox.passed, outbox.summary
    assert outbox.summary.startswith("outbox ok: database intact, 1 waiting (oldest ")
    assert outbox.details["integrity"] == "ok" and outbox.details["by_state"]["pending"] == 1


def test_outbox_selftest_finds_a_damaged_database(tmp_path: Path) -> None:
    (tmp_path / "kiosk.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200 + b"junk" * 500)
    result = run_selftest("outbox", SelfTestContext(tmp_path))
    assert not result.passed and result.summary.startswith("outbox: ")


class Platform(BaseHTTPRequestHandler):
    """/healthz with a Date header; the heartbeat with the platform's clock, for one token."""

    skew = 0.0  # how far the platform's clock is behind ours

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._reply(200 if self.path == "/healthz" else 404, {"status": "ok", "db": "ok"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Authorization") != "Bearer right-token":
            self._reply(401, {"error": "unauthorized", "detail": "bad token"})
            return
        now = datetime.now(UTC) - timedelta(seconds=self.skew)
        self._reply(200, {"server_time": now.isoformat()})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def platform() -> Iterator[ThreadingHTTPServer]:
    Platform.skew = 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_network_selftest_against_a_platform(tmp_path: Path, platform: ThreadingHTTPServer) -> None:
    url = f"http://127.0.0.1:{platform.server_address[1]}"
    ok = run_selftest("network", SelfTestContext(tmp_path, central_url=url))
    assert ok.passed, ok.summary
    assert ok.details["healthz"] == 200 and ok.details["clock_source"] == "http date"
    assert abs(ok.details["clock_skew_seconds"]) < 2
    with_token = SelfTestContext(tmp_path, central_url=url, token="right-token", kiosk_id="k1")
    ok = run_selftest("network", with_token)
    assert ok.passed and ok.details["clock_source"] == "heartbeat", ok.summary
    assert ok.summary.endswith("token accepted")
    refused = run_selftest(
        "network", SelfTestContext(tmp_path, central_url=url, token="wrong", kiosk_id="k1")
    )
    assert refused.summary == "platform: token refused (HTTP 401)"
    Platform.skew = 300.0
    skewed = run_selftest("network", with_token)
    assert (skewed.passed, skewed.summary) == (False, "clock: 300 s ahead of the platform")


def test_network_selftest_says_the_platform_is_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_selftest(
        "network", SelfTestContext(tmp_path, central_url=f"http://127.0.0.1:{port}")
    )
    assert (result.passed, result.summary) == (
        False,
        f"network: 127.0.0.1:{port} refused the connection",
    )


def test_last_results_are_kept_per_test(tmp_path: Path) -> None:
    ctx = SelfTestContext(tmp_path)
    save_last(tmp_path, [run_selftest("disk", ctx), run_selftest("network", ctx)])
    save_last(tmp_path, [run_selftest("disk", ctx)])
    assert [r["name"] for r in load_last(tmp_path)] == ["disk", "network"]


# -- snapshot and bundle -------------------------------------------------------------------------
def test_config_redaction() -> None:
    config = {
        "central": {"url": "https://ops:pw@central.example:8443/api", "token": "tok-123"},
        "diagnostics": {"technician_pin_hashes": ["scrypt$1$2$3$4$5"], "entry_taps": 5},
        "keys": {"private_key": "abc", "trusted": ["pub"]},
        "unset": {"token": None},
    }
    assert redact_config(config) == {
        "central": {"url": f"https://{SECRET_MASK}@central.example:8443/api", "token": SECRET_MASK},
        "diagnostics": {"technician_pin_hashes": SECRET_MASK, "entry_taps": 5},
        "keys": {"private_key": SECRET_MASK, "trusted": ["pub"]},
        "unset": {"token": None},
    }


def test_health_snapshot_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, json_logs: Path
) -> None:
    monkeypatch.setenv("KIOSK_TOKEN", "tok-very-secret")
    monkeypatch.setenv("KIOSK_CENTRAL_URL", "http://ops:hunter2@127.0.0.1:9")
    settings = load_settings(None, tmp_path)
    store = OutboxStore(tmp_path / "kiosk.db")
    try:
        rec = store.record(
            "queue_ticket",
            {"option": "general"},
            personal={"name": CARD.name, "id_number": CARD.id_number, "phone": PHONE},
        )
        store.bury([(rec.seq, "rejected", f"id_number {CARD.id_number} not allowed")])
        logging.getLogger("kiosk.visit.controller").info("visit for %s", CARD.id_number)
        snapshot = health_snapshot(settings, devices=[FakeReader("id_card_reader")], store=store)
    finally:
        store.close()
    assert set(snapshot) == {
        "schema",
        "generated_at",
        "kiosk_id",
        "versions",
        "devices",
        "outbox",
        "config",
        "sync",
        "disk",
        "selftests",
        "last_selftests",
        "logs",
        "workers",
    }
    assert snapshot["config"]["central"]["token"] == SECRET_MASK
    assert snapshot["config"]["central"]["url"] == f"http://{SECRET_MASK}@127.0.0.1:9"
    assert snapshot["outbox"]["by_state"]["dead"] == 1
    assert snapshot["outbox"]["dead_letters"][0]["reason"] == f"id_number {ID_MASK} not allowed"
    assert snapshot["logs"][-1]["message"] == f"visit for {ID_MASK}"
    assert {"app", "python", "qt", "opencv", "sqlite"} <= set(snapshot["versions"])
    text = json.dumps(snapshot, ensure_ascii=False)
    for secret in ("tok-very-secret", "hunter2", CARD.name, CARD.id_number, PHONE):
        assert secret not in text
    brief = compact_health(snapshot)
    assert len(brief.encode()) < 600
    assert json.loads(brief)["d"] == {"id_card_reader": "absent"}

    bundle = write_bundle(tmp_path / "out" / "bundle.zip", snapshot)
    with zipfile.ZipFile(bundle) as zf:
        assert sorted(zf.namelist()) == sorted(BUNDLE_FILES)
        inside = json.loads(zf.read("snapshot.json"))
        assert inside["logs"] == {"file": "logs/recent.jsonl", "lines": len(snapshot["logs"])}
        assert json.loads(zf.read("config.redacted.json")) == snapshot["config"]
    assert [p.name for p in bundle.parent.iterdir()] == ["bundle.zip"]  # no temporary left


def test_bundle_members_are_masked_again(tmp_path: Path) -> None:
    snapshot = {"logs": [{"message": f"old line {CARD.id_number}"}], "disk": {"free": 13812345678}}
    with zipfile.ZipFile(write_bundle(tmp_path / "b.zip", snapshot)) as zf:
        assert ID_MASK in zf.read("logs/recent.jsonl").decode()
        assert json.loads(zf.read("snapshot.json"))["disk"] == {"free": 13812345678}


def test_a_failed_integrity_check_is_not_a_crash(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "kiosk.db")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    result = run_selftest("outbox", SelfTestContext(tmp_path))
    assert result.passed and result.summary == "outbox database intact"
