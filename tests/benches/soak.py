"""Soak (issue 14, item 8): many automated visits in one process on the real terminal, with random
faults, syncing to a real platform process through a network that is cut and restored. Goals,
over 10,000 visits: resident set size growth <= 10 MB, threads and file descriptors flat, no
leaked widgets or timers, every visit finished by the product's own states, and every transaction
recorded on the terminal on the platform exactly once.

The terminal is the one tests/benches/bench_visits.py drives (``build(settings, simulate=True)``
in a temporary data directory, offscreen at 1920x1080, devices started, events through
``controller.dispatch``), with its Driver's waits and clock, and its measurements. Here its
``[central] url`` points at a real ``kiosk-central serve`` process (tests/platform_process.py) on
a temporary SQLite database, THROUGH the fault proxy (tests/fault_proxy.py, run in a child
process so its threads and sockets are not counted as the terminal's), so the network can be cut
(every connection dropped) or made flaky (answers cut after the platform committed, resets,
delays) and restored. The product logs to its own files (kiosk.logs) in the
data directory; warnings and errors are counted and summarised at the end.

Each visit is a resident with a plan (a queue ticket, by the screen or by laying the card on the
simulated SAM reader; feedback; calling staff; a social-security, medical or housing-fund query;
a certificate; an application-progress or appointment code shown to the simulated camera), who
follows whatever the product shows: a greyed service makes them choose the queue ticket (or call
staff), a failed card read makes them lay the card again, an offline query makes them take the
request slip, a problem screen is acknowledged, a failed print is accepted. At every step a
seeded RNG may inject a fault (``--fault-rate`` per step) or restore one already in force:

- card pulled mid-read: the SAM simulator's one-shot ``removed_mid_read``, armed for the next
  card laid on the reader;
- paper out (and back): ``SimulatedReceiptPrinter.inject("paper_out", on/off)``;
- camera unplugged (and back): ``SimulatedCamera.inject("unplugged", on/off)``;
- network cut (and back): the proxy drops every connection, or turns flaky;
- timeout: the resident walks away; the session's clock moves past the step's deadline and the
  controller ticks (as the 250 ms ticker would), whatever the step (a result, a rating with a
  face, processing while the disk or platform has not answered yet).

Measured after ``--warmup`` visits and at the end, each time with every fault cleared, the
devices back and the proxy idle: RSS, Python and OS threads, open file descriptors
(/proc/self/fd), QWidgets and QTimers. Then the network is restored, the outbox drained (nothing
waiting), and the terminal's transactions (uuid, seq) compared with the platform's. Exit 0 when
every goal is met, 1 otherwise.

    .venv/bin/python tests/benches/soak.py [--visits 10000] [--warmup 200] [--seed 14]
        [--fault-rate 0.02]
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:2] == ["--proxy-child"]:
    # The fault proxy's own process: no Qt, no terminal. One JSON command a line on stdin.
    import json
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.fault_proxy import FaultProxy

    upstream, seed = int(sys.argv[2]), int(sys.argv[3])
    with FaultProxy(("127.0.0.1", upstream), {"pass": 1.0}, seed=seed, delay=0.3) as child:
        print(child.port, flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "mix":
                child.set_mix(command["mix"])
                answer: object = "ok"
            elif command["op"] == "busy":
                answer = sum(t.is_alive() for t in list(child._threads))
            elif command["op"] == "counts":
                answer = dict(child.counts)
            else:
                break
            print(json.dumps(answer), flush=True)
    sys.exit(0)

import argparse
import json
import logging
import os
import random
import sqlite3
import subprocess
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import bench_visits as bv  # imports headless first: offscreen panel, mock voice, project on path
from bench_visits import Driver, os_threads, rss_mb, settle, snapshot, verdict

from contracts.codes import sample_application_code, sample_appointment_code
from contracts.records import reasons_for
from drivers.base import DeviceState
from drivers.idcard import IdCard
from drivers.idcard_reader import CardEvent, CardEventKind
from drivers.sim_cards import SAMPLE_CARDS
from kiosk.app import KioskApp, build, qt_app
from kiosk.config.settings import load_settings
from kiosk.logs import setup_logging
from kiosk.platform_link.embedded import EMBEDDED_KEY_FILE
from kiosk.visit.session import (
    Cancel,
    CardRead,
    ChooseOption,
    ChooseService,
    Confirm,
    Entered,
    Event,
    PickReason,
    PrintAnswer,
    Rate,
    RequestSlip,
    Start,
    State,
    SubmitRating,
    VisitView,
)
from tests.platform_process import central, platform_process

GOAL_RSS_MB = bv.GOAL_RSS_MB
KIOSK_ID = "kiosk-soak-001"
WAIT = bv.STEP_TIMEOUT  # seconds for a worker's answer before the visit counts as stuck
SCAN_WAIT = 12.0  # seconds a resident holds a code up (a camera coming back takes up to 10 s)
DRAIN_SECONDS = 420.0  # the sync backoff is capped at 300 s: after that, something is wrong
MAX_ACTIONS = 60  # per visit: more means the driver and the product disagree
FAULT_KINDS = ("card_pulled", "paper_out", "camera_unplugged", "network_cut", "timeout")
# A pulled card costs the resident the reader's 3 s read timeout and a second's pause: fewer of
# them, or they would take most of the soak's time.
FAULT_WEIGHTS = (0.3, 1.0, 1.0, 1.0, 1.0)
# Chance, at each step, that a fault in force is cleared: paper ~ a visit, the camera and the
# network ~ a few (so scans and the sync worker meet them).
RESTORE_CHANCE = {"paper_out": 0.10, "camera_unplugged": 0.04, "network_cut": 0.03}
NETWORK_DOWN = {"drop": 1.0}
NETWORK_FLAKY = {"pass": 0.4, "cut": 0.3, "reset": 0.2, "delay": 0.1}
NETWORK_UP = {"pass": 1.0}
# One round of plans; a round's visits in any order of 20.
ROUND = (
    "ticket", "reader_ticket", "query", "ticket", "feedback", "ticket", "scan", "ticket",
    "staff", "ticket", "certificate", "ticket", "reader_ticket", "query", "feedback", "ticket",
    "scan", "ticket", "query", "ticket",
)  # fmt: skip
QUERIES = ("social_security", "medical_insurance", "housing_fund")
SCANS = ("application_progress", "appointment_checkin")


def open_fds() -> list[str]:
    """What each open descriptor points at (sockets and pipes by kind, files by path)."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, gone by now
            continue
        out.append(target.split(":[")[0] if ":[" in target else target)
    return out


class ProxyProcess:
    """tests/fault_proxy.py's FaultProxy, as is, in a child process (this file with
    ``--proxy-child``), driven over a pipe."""

    def __init__(self, upstream_port: int, seed: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--proxy-child", str(upstream_port), str(seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.port = int(self.proc.stdout.readline())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ask(self, **command: object) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def set_mix(self, mix: dict[str, float]) -> None:
        self._ask(op="mix", mix=mix)

    def busy(self) -> int:
        """Connections being served now."""
        return int(self._ask(op="busy"))  # type: ignore[call-overload]

    @property
    def counts(self) -> dict[str, int]:
        return self._ask(op="counts")  # type: ignore[return-value]

    def __enter__(self) -> ProxyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


@dataclass
class Plan:
    kind: str
    service: str
    card: IdCard
    by_reader: bool = False  # identify by laying the card on the SAM reader
    option: str | None = None
    code: str | None = None  # shown to the camera
    print_answer: bool = False
    score: int = 5
    reason: bool = False
    phone: str = ""


@dataclass
class Tally:
    visits: Counter[str] = field(default_factory=Counter)  # planned kind
    seconds: Counter[str] = field(default_factory=Counter)  # time spent, by planned kind
    services: Counter[str] = field(default_factory=Counter)  # service actually used
    ends: Counter[str] = field(default_factory=Counter)  # end reason
    results: Counter[str] = field(default_factory=Counter)  # what the result screen showed
    injected: Counter[str] = field(default_factory=Counter)
    met: Counter[str] = field(default_factory=Counter)  # how the product answered a fault
    anomalies: list[str] = field(default_factory=list)


class Faults:
    """The seeded fault schedule: what is in force, what was injected, when it is cleared."""

    def __init__(self, rng: random.Random, rate: float, kiosk: KioskApp, proxy: ProxyProcess):
        self.rng, self.rate = rng, rate
        self.reader = kiosk.devices.id_card_reader
        self.printer = kiosk.devices.receipt_printer
        self.camera = kiosk.devices.camera
        self.proxy = proxy
        self.active: set[str] = set()
        self.pull_next_read = False
        self.tally: Tally | None = None

    def opportunity(self, driver: SoakDriver) -> None:
        """One step of a visit (or the gap between two): clear, then perhaps inject."""
        for kind in sorted(self.active):
            if self.rng.random() < RESTORE_CHANCE[kind]:
                self._set(kind, False)
        if self.rng.random() >= self.rate:
            return
        kind = self.rng.choices(FAULT_KINDS, FAULT_WEIGHTS)[0]
        if kind == "timeout":
            driver.walk_away("timeout")
        elif kind == "card_pulled":
            if not self.pull_next_read:
                self.pull_next_read = True
                self._count(kind)
        elif kind not in self.active:
            self._set(kind, True)

    def _count(self, kind: str) -> None:
        assert self.tally is not None
        self.tally.injected[kind] += 1

    def _set(self, kind: str, on: bool) -> None:
        if kind == "paper_out":
            self.printer.inject("paper_out", on)  # type: ignore[union-attr]
        elif kind == "camera_unplugged":
            self.camera.inject("unplugged", on)  # type: ignore[union-attr]
        elif kind == "network_cut":
            if on:
                flaky = self.rng.random() < 0.5
                self.proxy.set_mix(NETWORK_FLAKY if flaky else NETWORK_DOWN)
                self._count("network_flaky" if flaky else "network_down")
            else:
                self.proxy.set_mix(NETWORK_UP)
        if on:
            self.active.add(kind)
            self._count(kind)
        else:
            self.active.discard(kind)

    def clear_all(self) -> None:
        for kind in sorted(self.active):
            self._set(kind, False)
        self.proxy.set_mix(NETWORK_UP)

    def arm_card_pull(self) -> bool:
        """Just before a card is laid: a pull drawn earlier happens on this read."""
        if not self.pull_next_read:
            return False
        self.pull_next_read = False
        self.reader.inject("removed_mid_read")  # type: ignore[union-attr]
        return True


class SoakDriver(Driver):
    """bench_visits' Driver (the real terminal, its waits, the shifted session clock), with a
    resident who follows the product's states instead of a fixed script."""

    def __init__(self, app, kiosk: KioskApp, rng: random.Random, faults: Faults) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app, kiosk, reader_every=True)
        self.rng, self.faults = rng, faults
        self.camera = kiosk.devices.camera
        self.tally = Tally()
        faults.tally = self.tally
        self.card_on_reader = False
        self.plan: Plan | None = None
        self.n = 0
        self.read_outcomes = 0  # card reads that ended (read or failed), from the reader's thread
        self.last_read_failed = False
        self.reader.add_card_listener(self._on_read)  # type: ignore[union-attr]

    def _on_read(self, event: CardEvent) -> None:  # the reader's thread, after the controller's
        if event.kind in (CardEventKind.READ, CardEventKind.FAILED):
            self.last_read_failed = event.kind is CardEventKind.FAILED
            self.read_outcomes += 1

    # -- what a resident does -------------------------------------------------------------------
    def make_plan(self, n: int) -> Plan:
        rng = self.rng
        kind = ROUND[n % len(ROUND)]
        card = SAMPLE_CARDS[n % len(SAMPLE_CARDS)]
        score = rng.choice((5, 5, 5, 4, 4, 3, 2, 1))
        plan = Plan(kind, "queue_ticket", card, score=score, reason=rng.random() < 0.4)
        if kind in ("ticket", "reader_ticket"):
            plan.by_reader = kind == "reader_ticket" or rng.random() < 0.05
            plan.option = bv.TICKET_OPTIONS[n % len(bv.TICKET_OPTIONS)]
        elif kind == "query":
            plan.service = QUERIES[n % len(QUERIES)]
            plan.by_reader = rng.random() < 0.2
            plan.print_answer = rng.random() < 0.5
        elif kind == "certificate":
            plan.service = "certificate"
            plan.option = rng.choice(("insured_certificate", "contribution_certificate"))
        elif kind == "scan":
            plan.service = SCANS[n % len(SCANS)]
            serial = rng.randrange(1, 900)
            plan.code = (
                sample_application_code(serial)
                if plan.service == "application_progress"
                else sample_appointment_code(date.today(), serial)
            )
            plan.print_answer = rng.random() < 0.3
        elif kind == "feedback":
            plan.service = "feedback"
            plan.phone = "13800138000" if rng.random() < 0.5 else ""
        else:
            plan.service = "call_staff"
        return plan

    def visit(self, n: int) -> None:  # type: ignore[override]
        self.n, self.plan = n, self.make_plan(n)
        plan = self.plan
        self.tally.visits[plan.kind] += 1
        if self.session.state is not State.ATTRACT:
            self.anomaly(f"visit {n} began on {self.session.state.value}")
            self.recover()
        self.rated = self.picked = self.slip_asked = self.print_asked = False
        began = time.perf_counter()
        self.read_failures = 0
        self.used: str | None = None
        actions = 0
        while self.session.state is not State.GOODBYE:
            actions += 1
            if actions > MAX_ACTIONS:
                self.anomaly(f"visit {n}: no end after {MAX_ACTIONS} actions "
                             f"(state {self.session.state.value})")  # fmt: skip
                self.recover()
                break
            self.faults.opportunity(self)
            if self.session.state is State.GOODBYE:
                break
            self.act()
        view = self.session.view()
        self.tally.ends[view.end_reason or "?"] += 1
        if self.used:
            self.tally.services[self.used] += 1
        if self.card_on_reader:  # the resident takes the card back
            self.reader.remove()  # type: ignore[union-attr]
            self.card_on_reader = False
        self.faults.opportunity(self)  # between two visits
        # The goodbye screen's timeout, as the ticker would find it (a fault may have ended the
        # goodbye already).
        if self.session.state is State.GOODBYE:
            self.walk_away(None)
        if self.session.state is not State.ATTRACT:
            self.anomaly(f"visit {n}: goodbye led to {self.session.state.value}")
            self.recover()
        self.tally.seconds[plan.kind] += time.perf_counter() - began

    def act(self) -> None:
        state, view, plan = self.session.state, self.session.view(), self.plan
        assert plan is not None
        if state is State.ATTRACT:
            if plan.kind == "reader_ticket":
                self.lay_card()  # the card first: greeted by name, then the catalogue
            else:
                self.do(Start())
        elif state is State.CATALOGUE:
            code = plan.service
            if code in view.unavailable:
                self.tally.met[f"greyed:{code}"] += 1
                code = "queue_ticket" if "queue_ticket" not in view.unavailable else "call_staff"
                if code == "queue_ticket":
                    plan.option = plan.option or bv.TICKET_OPTIONS[self.n % 4]
            self.used = code
            self.do(ChooseService(code))
            if self.session.state is State.CATALOGUE:
                self.anomaly(f"visit {self.n}: {code} chosen, still on the catalogue")
                self.walk_away("stuck")
        elif state is State.IDENTIFY:
            if view.notice_key is not None:  # a read failed (the card was pulled mid-read)
                self.tally.met[f"card:{view.notice_key}"] += 1
                self.read_failures += 1
                if self.read_failures > 3:
                    self.walk_away(None)
                    return
            if plan.by_reader:
                self.lay_card()
            else:
                self.do(CardRead(plan.card))
        elif state is State.CHOOSE:
            service = self.session.catalogue.get(view.service or "")
            options = [o.code for o in service.options] if service else []
            option = plan.option if plan.option in options else (options or [""])[0]
            self.do(ChooseOption(option))
        elif state is State.FEEDBACK:
            self.do(Entered("指示牌很清楚，谢谢"))
        elif state is State.KEYPAD:
            self.do(Entered(plan.phone))
        elif state is State.CONFIRM:
            self.do(Confirm())
        elif state is State.SCAN:
            self.scan()
        elif state is State.PROCESSING:
            self.wait_until(lambda: self.session.state is not State.PROCESSING,
                            "an answer (record, platform)", walk=True)  # fmt: skip
        elif state is State.RESULT:
            self.result(view)
        elif state is State.RATING:
            if not self.rated:
                self.rated = True
                self.do(Rate(plan.score))
            elif plan.reason and not self.picked:
                self.picked = True
                self.do(PickReason(self.rng.choice(reasons_for(plan.score))))
            else:
                self.do(SubmitRating())
        elif state is State.PROBLEM:
            self.tally.met[f"problem:{view.notice_key}"] += 1
            self.do(Confirm())
        else:
            self.anomaly(f"visit {self.n}: unexpected state {state.value}")
            self.recover()

    def result(self, view: VisitView) -> None:
        plan = self.plan
        assert plan is not None
        if view.receipt == "printing":
            self.wait_until(lambda: self.session.state is not State.RESULT
                            or self.session.view().receipt != "printing",
                            "the receipt", walk=True)  # fmt: skip
            return
        v = self.session.view()
        if v.outcome == "offline_offer" and not self.slip_asked:
            self.slip_asked = True
            self.tally.results["offline_offer"] += 1
            self.do(RequestSlip())
            return
        if v.outcome == "answer" and plan.print_answer and not self.print_asked and not v.receipt:
            self.print_asked = True
            self.do(PrintAnswer())
            return
        self.tally.results[f"{v.outcome}:{v.receipt or 'no_receipt'}"] += 1
        if v.receipt == "failed":
            self.tally.met[f"print:{v.receipt_key}"] += 1
        self.do(Confirm())

    def scan(self) -> None:
        plan = self.plan
        assert plan is not None and self.camera is not None
        self.camera.hold_up(plan.code or "")  # type: ignore[attr-defined]
        try:
            if not self.wait_until(lambda: self.session.state is not State.SCAN, "the code read",
                                   limit=SCAN_WAIT):  # fmt: skip
                down = self.session.view().device_notice_key
                self.tally.met[f"scan_unread:{down or 'camera_ready'}"] += 1
                if down is None:
                    self.tally.anomalies.append(
                        f"visit {self.n}: {plan.code} held up "
                        f"{SCAN_WAIT:.0f} s, camera ready, not read"
                    )
                self.walk_away(None)
        finally:
            self.camera.hold_up(None)  # type: ignore[attr-defined]

    # -- helpers --------------------------------------------------------------------------------
    def do(self, event: Event) -> None:
        self.controller.dispatch(event)
        self.app.processEvents()

    def lay_card(self) -> None:
        """Lay the plan's card on the simulated SAM reader and wait for the read to end (read or
        failed); the card stays there until the resident takes it at the goodbye."""
        reader = self.reader
        assert reader is not None and self.plan is not None
        if self.card_on_reader:
            reader.remove()  # type: ignore[attr-defined]
            self.card_on_reader = False
        if not self.wait_until(self.card_removed.is_set, "the reader to see the last card go"):
            return
        self.card_removed.clear()
        if self.faults.arm_card_pull():
            self.tally.met["card_pulled_on_reader"] += 1
        before = self.read_outcomes
        reader.present(self.plan.card)  # type: ignore[attr-defined]
        self.card_on_reader = True
        if self.wait_until(lambda: self.read_outcomes > before, "the card read"):
            for _ in range(3):  # the controller's posted answer, and what it leads to
                self.app.processEvents()
            if self.last_read_failed:
                self.tally.met["card_read_failed"] += 1

    def wait_until(
        self, ready: Callable[[], bool], what: str, *, limit: float = WAIT, walk: bool = False
    ) -> bool:
        end = time.monotonic() + limit
        while not ready():
            if time.monotonic() > end:
                if limit >= WAIT:
                    self.anomaly(f"visit {self.n}: no {what} in {limit:.0f} s "
                                 f"(state {self.session.state.value})")  # fmt: skip
                    if walk:
                        self.walk_away(None)
                return False
            self.app.processEvents()
            time.sleep(0.0005)
        return True

    def walk_away(self, why: str | None) -> None:
        """The step's time runs out: the session's clock moves past its deadline and the
        controller ticks, as the 250 ms ticker would find it."""
        state = self.session.state
        deadline = self.session._deadline
        if deadline is None or state in (State.ATTRACT, State.TECHNICIAN):
            return
        if why is not None and state is State.GOODBYE:
            return  # the goodbye ends by its timeout anyway: not a fault
        if why is not None:
            self.tally.injected[why] += 1
            where = state.value
            if state in (State.PROCESSING, State.RESULT):
                where += f" ({self.session.view().service})"
            self.tally.met[f"timeout_at:{where}"] += 1
        self.clock.offset += max(0.0, deadline - self.clock()) + 0.01
        self.controller.tick()
        self.app.processEvents()

    def anomaly(self, text: str) -> None:
        self.tally.anomalies.append(text)
        print(f"  ANOMALY {text}", file=sys.stderr, flush=True)

    def recover(self) -> None:
        """After an anomaly: end whatever is on screen the way the product would."""
        for _ in range(5):
            if self.session.state is State.ATTRACT:
                return
            if self.session.state is State.PROCESSING:
                self.walk_away(None)
            elif self.session.state is not State.GOODBYE:
                self.controller.dispatch(Cancel())
            self.walk_away(None)
        if self.card_on_reader:
            self.reader.remove()  # type: ignore[union-attr]
            self.card_on_reader = False


@dataclass
class Reading:
    snap: bv.Snapshot
    fds: list[str]
    os_threads: int


def quiesce(app, kiosk: KioskApp, faults: Faults, proxy: ProxyProcess) -> None:  # type: ignore[no-untyped-def]
    """Every fault cleared, the devices back, the proxy idle: readings comparable."""
    faults.clear_all()
    devices = [kiosk.devices.id_card_reader, kiosk.devices.receipt_printer, kiosk.devices.camera]
    end = time.monotonic() + 30
    while time.monotonic() < end:
        settle(app, 0.1)
        if not proxy.busy() and all(
            d is None or d.status.state is DeviceState.READY for d in devices
        ):
            break
    settle(app, 0.5)


def reading(app, visits: int) -> Reading:  # type: ignore[no-untyped-def]
    """bench_visits' snapshot, plus descriptors and OS threads at their lowest of a few looks
    over a second (a request in flight holds a socket for a moment)."""
    snap = snapshot(app, visits)
    best_fds, best_threads = open_fds(), os_threads()
    for _ in range(5):
        settle(app, 0.2)
        fds = open_fds()
        if len(fds) < len(best_fds):
            best_fds = fds
        best_threads = min(best_threads, os_threads())
    return Reading(snap, best_fds, best_threads)


def drain(app, kiosk: KioskApp, proxy: ProxyProcess) -> tuple[bool, float, int]:  # type: ignore[no-untyped-def]
    """The network restored, the technician's "sync now": wait until nothing is waiting."""
    proxy.set_mix(NETWORK_UP)
    sync = kiosk.controller.sync
    assert sync is not None
    began = time.monotonic()
    sync.wake()
    waiting = -1
    while time.monotonic() - began < DRAIN_SECONDS:
        settle(app, 0.5)
        waiting = kiosk.controller.store.status().waiting
        if waiting == 0:
            return True, time.monotonic() - began, 0
    return False, time.monotonic() - began, waiting


def personal_key(data: Path, db_url: str) -> None:
    """The platform's personal-data key for the terminal to seal feedback phones and request slips
    to (or they wait, never sent in the clear): made and registered as the embedded platform does
    (kiosk/platform_link/embedded.py), offered where a terminal syncing to it looks
    (<data dir>/central/personal/). A production fleet gets it in the signed configuration."""
    folder = data / "central" / "personal"
    folder.mkdir(parents=True)
    made = central("personal", "keygen", "--out", str(folder), "--name", "embedded")
    central("personal", "register", str(folder / "embedded.pub"), "--db", db_url)
    (folder / EMBEDDED_KEY_FILE).write_text(made.strip().splitlines()[-1] + "\n", "utf-8")


def compare(db: Path, platform_db: Path) -> dict[str, object]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        local = dict(conn.execute("SELECT uuid, seq FROM transactions").fetchall())
        services = Counter(s for (s,) in conn.execute("SELECT service FROM transactions"))
        states = dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
        dead = conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]
    with sqlite3.connect(f"file:{platform_db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT uuid, seq FROM transactions WHERE kiosk_id = ?", (KIOSK_ID,)
        ).fetchall()
        others = conn.execute(
            "SELECT COUNT(*) FROM transactions WHERE kiosk_id != ?", (KIOSK_ID,)
        ).fetchone()[0]
    per_uuid = Counter(u for u, _ in rows)
    remote = dict(rows)
    missing = [u for u in local if u not in remote]
    extra = [u for u in remote if u not in local]
    twice = [u for u, c in per_uuid.items() if c > 1]
    seq_differs = [u for u in local if u in remote and remote[u] != local[u]]
    return {
        "terminal": len(local), "platform": len(rows), "missing": missing, "extra": extra,
        "twice": twice, "seq_differs": seq_differs, "dead": dead, "states": states,
        "services": services, "others": others,
    }  # fmt: skip


class CountingHandler(logging.Handler):
    """Warnings and errors the product logged, by logger and message template."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {str(record.msg)[:70]}"] += 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--visits", type=int, default=10_000, help="visits in all, warm-up included"
    )
    parser.add_argument("--warmup", type=int, default=200, help="visits before the first reading")
    parser.add_argument("--seed", type=int, default=14, help="the faults' and residents' RNG")
    parser.add_argument("--fault-rate", type=float, default=0.02,
                        help="chance of a fault at each step of a visit")  # fmt: skip
    parser.add_argument("--trace", action="store_true",
                        help="tracemalloc: the Python lines whose memory grew most")  # fmt: skip
    args = parser.parse_args()
    if not 0 < args.warmup < args.visits:
        parser.error("--warmup must be between 0 and --visits")
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate must be between 0 and 1")
    app = qt_app()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; "
          f"seed {args.seed}, fault rate {args.fault_rate} per step", flush=True)  # fmt: skip
    threads_before_app = set(threading.enumerate())
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        folder = Path(tmp)
        (folder / "platform").mkdir()
        data = folder / "data"
        setup_logging(data / "logs")
        root = logging.getLogger()
        for handler in root.handlers:  # the console handler: summarised at the end instead
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(logging.CRITICAL + 1)
        counting = CountingHandler()
        root.addHandler(counting)
        with (
            platform_process(folder / "platform", KIOSK_ID) as platform,
            ProxyProcess(int(platform.url.rsplit(":", 1)[1]), args.seed) as proxy,
        ):
            personal_key(data, platform.db_url)
            settings = load_settings(data_dir=data)
            central = settings.central.model_copy(
                update={"url": proxy.url, "kiosk_id": KIOSK_ID, "token": platform.token}
            )
            settings = settings.model_copy(update={"central": central})
            kiosk = build(settings, simulate=True)
            window = kiosk.window
            window.resize(1920, 1080)
            window.show()
            left: list[str] = []
            try:
                kiosk.controller.start()
                faults = Faults(rng, args.fault_rate, kiosk, proxy)
                quiesce(app, kiosk, faults, proxy)
                driver = SoakDriver(app, kiosk, rng, faults)
                for n in range(args.warmup):
                    driver.visit(n)
                quiesce(app, kiosk, faults, proxy)
                start = reading(app, args.warmup)
                if args.trace:
                    tracemalloc.start(12)
                    traced = tracemalloc.take_snapshot()
                trend = [(args.warmup, start.snap.rss_mb)]
                began = time.perf_counter()
                for n in range(args.warmup, args.visits):
                    driver.visit(n)
                    done = n + 1
                    if done % 250 == 0 or done == args.visits:
                        trend.append((done, rss_mb()))
                        rate = (done - args.warmup) / (time.perf_counter() - began)
                        status = kiosk.controller.sync.status  # type: ignore[union-attr]
                        print(f"  {done} visits, {rate:.1f}/s, RSS {trend[-1][1]:.1f} MB, "
                              f"faults {sorted(faults.active)}, link {status.link.value}, "
                              f"waiting {status.waiting}, anomalies "
                              f"{len(driver.tally.anomalies)}", file=sys.stderr,
                              flush=True)  # fmt: skip
                elapsed = time.perf_counter() - began
                quiesce(app, kiosk, faults, proxy)
                end = reading(app, args.visits)
                if args.trace:
                    grown = tracemalloc.take_snapshot().compare_to(traced, "lineno")
                    tracemalloc.stop()
                drained, drain_s, still = drain(app, kiosk, proxy)
                db = data / "kiosk.db"
                db_size = sum(f.stat().st_size for f in data.glob("kiosk.db*"))
                check = compare(db, Path(platform.db_url.removeprefix("sqlite:///")))
                restarts = {h.name: h.restarts for h in _workers() if h.restarts}
            finally:
                kiosk.shutdown()
                window.close()
            settle(app, 0.5)
            deadline = time.monotonic() + 5
            while True:  # the terminal's threads end when it shuts down
                left = sorted(t.name for t in threading.enumerate()
                              if t not in threads_before_app and t.is_alive())  # fmt: skip
                if not left or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            after_shutdown = compare(db, Path(platform.db_url.removeprefix("sqlite:///")))
            proxy_counts = proxy.counts

    tally = driver.tally
    measured = args.visits - args.warmup
    s0, s1 = start.snap, end.snap
    growth = s1.rss_mb - s0.rss_mb
    rss_ok = growth <= GOAL_RSS_MB
    threads_same = Counter(s0.threads) == Counter(s1.threads)
    threads_ok = threads_same and start.os_threads == end.os_threads and not left
    fds_ok = len(end.fds) <= len(start.fds)
    widgets_ok = s1.widgets <= s0.widgets
    timers_ok = s1.timers <= s0.timers and s1.timers_active <= s0.timers_active
    missing, extra = check["missing"], check["extra"]
    twice, seq_differs = check["twice"], check["seq_differs"]
    once_ok = (
        drained
        and not missing and not extra and not twice and not seq_differs  # type: ignore[truthy-bool]
        and check["dead"] == 0
        and after_shutdown["terminal"] == check["terminal"]
    )  # fmt: skip
    visits_ok = not tally.anomalies

    def counts(c: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

    print(f"{args.visits} visits in one process; measured {measured} after {args.warmup} warm-up "
          f"visits; planned: {counts(tally.visits)}")  # fmt: skip
    print(f"services used: {counts(tally.services)}")
    print(
        "seconds by planned kind: "
        + ", ".join(
            f"{k} {v:.0f} ({v / tally.visits[k]:.2f}/visit)"
            for k, v in sorted(tally.seconds.items())
        )
    )
    print(f"rate: {measured / elapsed:.1f} visits/s ({elapsed:.0f} s); outbox "
          f"{db_size / 1e6:.1f} MB on disk")  # fmt: skip
    print(f"faults injected: {counts(tally.injected)}; proxy connections: "
          f"{counts(Counter(proxy_counts))}")  # fmt: skip
    print(f"how the product met them: {counts(tally.met)}")
    print(f"visits ended: {counts(tally.ends)}")
    print(f"result screens: {counts(tally.results)}")
    print(f"RSS: {s0.rss_mb:.1f} MB after warm-up, {s1.rss_mb:.1f} MB at the end, growth "
          f"{growth:+.1f} MB (goal <= {GOAL_RSS_MB:.0f} MB): {verdict(rss_ok)}")  # fmt: skip
    print("RSS trend (visits: MB): " + ", ".join(f"{v}: {mb:.0f}" for v, mb in trend))
    print(f"threads: {len(s0.threads)} Python / {start.os_threads} OS after warm-up, "
          f"{len(s1.threads)} / {end.os_threads} at the end, "
          f"{'same names' if threads_same else 'CHANGED'}; {len(left)} left after shutdown "
          f"{left}: {verdict(threads_ok)}")  # fmt: skip
    if not threads_same:
        print(f"  after warm-up: {s0.threads}")
        print(f"  at the end:    {s1.threads}")
    print(f"file descriptors: {len(start.fds)} after warm-up, {len(end.fds)} at the end: "
          f"{verdict(fds_ok)}")  # fmt: skip
    if Counter(start.fds) != Counter(end.fds):
        more, fewer = Counter(end.fds) - Counter(start.fds), Counter(start.fds) - Counter(end.fds)
        print(f"  more: {dict(more)}; fewer: {dict(fewer)}")
    print(f"widgets: {s0.widgets} after warm-up, {s1.widgets} at the end: {verdict(widgets_ok)}")
    print(
        f"timers: {s0.timers} QTimers ({s0.timers_active} running) after warm-up, "
        f"{s1.timers} ({s1.timers_active} running) at the end: {verdict(timers_ok)}"
    )
    print(f"Python objects (gc): {s0.python_objects} after warm-up, {s1.python_objects} at the "
          f"end ({s1.python_objects - s0.python_objects:+d})")  # fmt: skip
    print(f"outbox drained: {'yes' if drained else 'NO'} in {drain_s:.0f} s"
          f"{'' if drained else f' ({still} still waiting)'}; outbox states {check['states']}, "
          f"dead letters {check['dead']}")  # fmt: skip
    print(f"exactly once: terminal {check['terminal']} transactions, platform "
          f"{check['platform']} for {KIOSK_ID}; missing {len(missing)}, extra "  # type: ignore[arg-type]
          f"{len(extra)}, twice {len(twice)}, seq differs {len(seq_differs)}; after shutdown "  # type: ignore[arg-type]
          f"the terminal holds {after_shutdown['terminal']}: {verdict(once_ok)}")  # fmt: skip
    print(f"  by service: {counts(check['services'])}")  # type: ignore[arg-type]
    for name, examples in (("missing", missing), ("extra", extra), ("twice", twice)):
        if examples:
            print(f"  {name}: {list(examples)[:5]}")  # type: ignore[call-overload]
    finished = measured + args.warmup - len(tally.anomalies)
    print(f"visits finished by the product's states: {finished}"
          f" of {args.visits}; anomalies {len(tally.anomalies)}: {verdict(visits_ok)}")  # fmt: skip
    for text in tally.anomalies[:15]:
        print(f"  {text}")
    if args.trace:
        print("tracemalloc, largest growth since warm-up:")
        for stat in grown[:15]:
            print(f"  {stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks  "
                  f"{stat.traceback[0]}")  # fmt: skip
    if restarts:
        print(f"supervised worker restarts: {restarts}")
    if counting.counts:
        print("warnings and errors logged (top 12):")
        for line, n in counting.counts.most_common(12):
            print(f"  {n:6d}  {line}")
    met = rss_ok and threads_ok and fds_ok and widgets_ok and timers_ok and once_ok and visits_ok
    print(f"all goals: {verdict(met)}")
    return 0 if met else 1


def _workers() -> list:  # type: ignore[type-arg]
    from runtime.supervisor import WORKERS

    return list(WORKERS.health())


if __name__ == "__main__":
    sys.exit(main())
