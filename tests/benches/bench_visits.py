"""Soak benchmark: many complete visits through the real terminal in one process. Goal, over
1,000 visits: resident set size growth <= 10 MB, no leaked threads, timers or widgets.

The terminal is the real one (``build(settings, simulate=True)`` in a temporary data directory:
every page, the simulator panel, the controller, the outbox on SQLite with an fsync per commit,
the simulated ESC/POS printer writing its files, the sync worker, spoken guidance on Qt's mock
engine), shown at 1920x1080 on the offscreen platform, devices started. Each visit is driven by
events through ``controller.dispatch(...)``, with the event loop run after each step so every
screen is painted and every worker's answer delivered:

- queue ticket (most visits): start, choose the service, a card read (``CardRead`` with one of
  ``SAMPLE_CARDS``), an option, confirm; the record is committed (Recorded) and the ticket
  printed; next, rate 5 and submit, goodbye.
- the same by the card reader (one visit in ten, ``--reader-every``): the card is laid on the
  simulated SAM reader, so the serial protocol, the reader thread and the main-thread hop run.
- feedback: the keyboard step, the phone keypad step, confirm, recorded, next, rate with a
  reason, submit.
- call staff: from the catalogue, the result screen, finish.

The goodbye screen ends when its timeout passes: the session's clock is moved on by that timeout
and ``controller.tick()`` called (what the 250 ms ticker would do), rather than waiting 8 s.

Measured after ``--warmup`` visits (caches, fonts, lazy imports, SQLite's page cache) and again
at the end, each time after a full garbage collection and with deleteLater's work done: RSS
(VmRSS from /proc/self/status), Python threads (threading.enumerate()) and OS threads, QWidgets
(QApplication.allWidgets()), QTimer objects (Python-made ones found by the garbage collector,
plus every QTimer child of the application and its windows) and how many are running. After
``shutdown()`` the threads the terminal started must be gone too. A missed goal is reported, not
an error (``--strict`` makes it exit 1).

    .venv/bin/python tests/benches/bench_visits.py [--visits 1000] [--warmup 50] [--trace]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import headless

ROOT = headless.ROOT

import shiboken6  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEvent, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from drivers.base import DeviceState  # noqa: E402
from drivers.idcard_reader import CardEvent, CardEventKind  # noqa: E402
from drivers.sim_cards import SAMPLE_CARDS  # noqa: E402
from kiosk.app import KioskApp, build, qt_app  # noqa: E402
from kiosk.config.settings import load_settings  # noqa: E402
from kiosk.visit.session import (  # noqa: E402
    CardRead,
    ChooseOption,
    ChooseService,
    Confirm,
    Entered,
    Event,
    PickReason,
    Rate,
    Start,
    State,
    SubmitRating,
)

GOAL_RSS_MB = 10.0
STEP_TIMEOUT = 15.0  # seconds for a worker's answer (a record, a receipt, a card read)
TICKET_OPTIONS = ("social_security", "medical_insurance", "housing_fund", "general")
# One round of visit kinds; "reader" becomes "ticket" when the reader is not used.
ROUND = ("reader", "ticket", "ticket", "feedback", "ticket", "staff", "ticket", "ticket",
         "feedback", "ticket")  # fmt: skip


def rss_mb() -> float:
    return _status_field("VmRSS") / 1024


def os_threads() -> int:
    return _status_field("Threads")


def _status_field(name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {name} in /proc/self/status")


@dataclass
class Snapshot:
    visits: int
    rss_mb: float
    threads: list[str]
    os_threads: int
    widgets: int
    timers: int
    timers_active: int
    python_objects: int


def qtimers(app: QApplication) -> list[QTimer]:
    """Every QTimer the process can see: Python-made ones (parented or not) and the children of
    the application and its top-level widgets, each once."""
    found: dict[int, QTimer] = {}
    candidates = [o for o in gc.get_objects() if isinstance(o, QTimer)]
    for owner in [app, *app.topLevelWidgets()]:
        candidates += owner.findChildren(QTimer)
    for timer in candidates:
        if shiboken6.isValid(timer):
            found[shiboken6.getCppPointer(timer)[0]] = timer
    return list(found.values())


def snapshot(app: QApplication, visits: int) -> Snapshot:
    settle(app, 0.3)
    # deleteLater'd objects go when the loop handles DeferredDelete; then Python's cycles.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    timers = qtimers(app)
    return Snapshot(
        visits=visits,
        rss_mb=rss_mb(),
        threads=sorted(t.name for t in threading.enumerate()),
        os_threads=os_threads(),
        widgets=len(app.allWidgets()),
        timers=len(timers),
        timers_active=sum(t.isActive() for t in timers),
        python_objects=len(gc.get_objects()),
    )


def settle(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


class ShiftedClock:
    """The session's clock, moved on at will: the goodbye screen's timeout without the wait."""

    def __init__(self, base: Callable[[], float]) -> None:
        self.base, self.offset = base, 0.0

    def __call__(self) -> float:
        return self.base() + self.offset


class Driver:
    """Runs whole visits on the real terminal, checking each step lands where it should."""

    def __init__(self, app: QApplication, kiosk: KioskApp, reader_every: bool) -> None:
        self.app, self.kiosk = app, kiosk
        self.controller = kiosk.controller
        self.session = kiosk.controller.session
        self.clock = ShiftedClock(self.session._clock)
        self.session._clock = self.clock
        self.reader = kiosk.devices.id_card_reader if reader_every else None
        self.card_removed = threading.Event()
        self.card_removed.set()
        if self.reader is not None:
            self.reader.add_card_listener(self._on_card)
        self.kinds: Counter[str] = Counter()

    def _on_card(self, event: CardEvent) -> None:  # the reader's thread
        if event.kind is CardEventKind.REMOVED:
            self.card_removed.set()

    def wait(self, ready: Callable[[], bool], what: str) -> None:
        end = time.monotonic() + STEP_TIMEOUT
        while not ready():
            if time.monotonic() > end:
                raise RuntimeError(f"visit {self.session.visit_number}: timed out waiting for "
                                   f"{what} (state {self.session.state.value})")  # fmt: skip
            self.app.processEvents()
            time.sleep(0.0005)

    def step(self, event: Event, expect: State | tuple[State, ...]) -> None:
        self.controller.dispatch(event)
        self.app.processEvents()  # paint the new screen, take any answers already back
        states = expect if isinstance(expect, tuple) else (expect,)
        if self.session.state not in states:
            raise RuntimeError(f"visit {self.session.visit_number}: {event!r} led to "
                               f"{self.session.state.value}, not {states[0].value}")  # fmt: skip

    def answered(self) -> None:
        """The record committed (and the receipt printed, for a ticket): the result screen."""
        self.wait(
            lambda: (
                self.session.state is State.RESULT
                and self.session.view().receipt in (None, "printed", "failed")
            ),
            "the record and the receipt",
        )

    def visit(self, n: int) -> None:
        kind = ROUND[n % len(ROUND)]
        if kind == "reader" and self.reader is None:
            kind = "ticket"
        self.kinds[kind] += 1
        if self.session.state is not State.ATTRACT:
            raise RuntimeError(f"visit {n} must start on the attract screen")
        card = SAMPLE_CARDS[n % len(SAMPLE_CARDS)]
        if kind == "reader":
            assert self.reader is not None
            self.wait(self.card_removed.is_set, "the reader to notice the last card went")
            self.card_removed.clear()
            self.reader.present(card)  # type: ignore[attr-defined]
            self.wait(lambda: self.session.state is State.CATALOGUE, "the card to be read")
            self.step(ChooseService("queue_ticket"), State.CHOOSE)  # identified: no card step
            self._ticket_rest(n)
            self.reader.remove()  # type: ignore[attr-defined]
        elif kind == "ticket":
            self.step(Start(), State.CATALOGUE)
            self.step(ChooseService("queue_ticket"), State.IDENTIFY)
            self.step(CardRead(card), State.CHOOSE)
            self._ticket_rest(n)
        elif kind == "feedback":
            self.step(Start(), State.CATALOGUE)
            self.step(ChooseService("feedback"), State.FEEDBACK)
            self.step(Entered("指示牌很清楚，谢谢"), State.KEYPAD)
            self.step(Entered("13800138000" if n % 2 else ""), State.CONFIRM)
            self.step(Confirm(), (State.PROCESSING, State.RESULT))
            self.answered()
            self.step(Confirm(), State.RATING)
            self.step(Rate(4), State.RATING)  # the face: reasons offered
            self.step(PickReason("easy"), State.RATING)
            self.step(SubmitRating(), State.GOODBYE)
        else:
            self.step(Start(), State.CATALOGUE)
            self.step(ChooseService("call_staff"), State.RESULT)
            self.step(Confirm(), State.GOODBYE)
        # The goodbye screen's timeout, as the ticker would find it.
        self.clock.offset += float(self.session.timeouts.goodbye)
        self.controller.tick()
        self.app.processEvents()
        if self.session.state is not State.ATTRACT:
            raise RuntimeError(f"visit {n}: goodbye led to {self.session.state.value}")

    def _ticket_rest(self, n: int) -> None:
        self.step(ChooseOption(TICKET_OPTIONS[n % len(TICKET_OPTIONS)]), State.CONFIRM)
        self.step(Confirm(), (State.PROCESSING, State.RESULT))
        self.answered()
        self.step(Confirm(), State.RATING)
        self.step(Rate(5), State.RATING)
        self.step(SubmitRating(), State.GOODBYE)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visits", type=int, default=1000, help="visits in all, warm-up included")
    parser.add_argument("--warmup", type=int, default=50, help="visits before the first reading")
    parser.add_argument("--reader-every", action=argparse.BooleanOptionalAction, default=True,
                        help="one visit in ten by the simulated card reader")  # fmt: skip
    parser.add_argument("--trace", action="store_true",
                        help="tracemalloc: the Python lines whose memory grew most")  # fmt: skip
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    if not 0 < args.warmup < args.visits:
        parser.error("--warmup must be between 0 and --visits")
    app = qt_app()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; "
          f"voice engine {os.environ['KIOSK_VOICE_ENGINE']}", flush=True)  # fmt: skip
    threads_before_app = set(threading.enumerate())
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data")
        kiosk = build(settings, simulate=True)
        window = kiosk.window
        window.resize(1920, 1080)
        window.show()
        try:
            kiosk.controller.start()
            reader = kiosk.devices.id_card_reader
            settle(app, 0.5)
            if reader is not None:
                end = time.monotonic() + 10
                while reader.status.state is not DeviceState.READY:
                    if time.monotonic() > end:
                        raise RuntimeError("the simulated card reader never became ready")
                    settle(app, 0.05)
            driver = Driver(app, kiosk, args.reader_every)
            for n in range(args.warmup):
                driver.visit(n)
            start = snapshot(app, args.warmup)
            if args.trace:
                tracemalloc.start(12)
                traced = tracemalloc.take_snapshot()
            trend = [(start.visits, start.rss_mb)]
            began = time.perf_counter()
            for n in range(args.warmup, args.visits):
                driver.visit(n)
                done = n + 1
                if done % 100 == 0 or done == args.visits:
                    trend.append((done, rss_mb()))
                    rate = (done - args.warmup) / (time.perf_counter() - began)
                    print(f"  {done} visits, {rate:.1f}/s, RSS {trend[-1][1]:.1f} MB",
                          file=sys.stderr, flush=True)  # fmt: skip
            elapsed = time.perf_counter() - began
            end_snap = snapshot(app, args.visits)
            if args.trace:
                grown = tracemalloc.take_snapshot().compare_to(traced, "lineno")
                tracemalloc.stop()
            db_size = sum(f.stat().st_size for f in Path(tmp, "data").glob("kiosk.db*"))
        finally:
            kiosk.shutdown()
            window.close()
        settle(app, 0.5)
        deadline = time.monotonic() + 5
        while True:  # the terminal's threads end when it shuts down (as tests/conftest.py asks)
            left = sorted(t.name for t in threading.enumerate()
                          if t not in threads_before_app and t.is_alive())  # fmt: skip
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.05)

    measured = args.visits - args.warmup
    growth = end_snap.rss_mb - start.rss_mb
    late = [p for p in trend if p[0] >= (start.visits + args.visits) / 2]
    slope = 0.0
    if len(late) > 1:
        slope = (late[-1][1] - late[0][1]) / (late[-1][0] - late[0][0]) * 100
    rss_ok = growth <= GOAL_RSS_MB
    threads_same = Counter(start.threads) == Counter(end_snap.threads)
    threads_ok = threads_same and not left
    widgets_ok = end_snap.widgets <= start.widgets
    timers_ok = end_snap.timers <= start.timers and end_snap.timers_active <= start.timers_active
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(driver.kinds.items()))
    objects = end_snap.python_objects - start.python_objects
    print(f"{args.visits} visits in one process ({kinds}); measured {measured} after "
          f"{args.warmup} warm-up visits")  # fmt: skip
    print(f"rate: {measured / elapsed:.1f} visits/s ({elapsed:.0f} s); outbox "
          f"{db_size / 1e6:.1f} MB on disk")  # fmt: skip
    print(f"RSS: {start.rss_mb:.1f} MB after warm-up, {end_snap.rss_mb:.1f} MB at the end, "
          f"growth {growth:+.1f} MB (goal <= {GOAL_RSS_MB:.0f} MB): {verdict(rss_ok)}")  # fmt: skip
    points = ", ".join(f"{v}: {mb:.1f}" for v, mb in trend)
    print(f"RSS trend (visits: MB): {points}; last half {slope:+.2f} MB per 100 visits")
    print(f"threads: {len(start.threads)} Python / {start.os_threads} OS after warm-up, "
          f"{len(end_snap.threads)} / {end_snap.os_threads} at the end, "
          f"{'same names' if threads_same else 'CHANGED'}; {len(left)} left after shutdown "
          f"{left}: {verdict(threads_ok)}")  # fmt: skip
    if not threads_same:
        print(f"  after warm-up: {start.threads}")
        print(f"  at the end:    {end_snap.threads}")
    print(f"widgets: {start.widgets} after warm-up, {end_snap.widgets} at the end: "
          f"{verdict(widgets_ok)}")  # fmt: skip
    print(f"timers: {start.timers} QTimers ({start.timers_active} running) after warm-up, "
          f"{end_snap.timers} ({end_snap.timers_active} running) at the end: "
          f"{verdict(timers_ok)}")  # fmt: skip
    print(f"Python objects (gc): {start.python_objects} after warm-up, "
          f"{end_snap.python_objects} at the end ({objects:+d})")  # fmt: skip
    if args.trace:
        print("tracemalloc, largest growth since warm-up:")
        for stat in grown[:12]:
            where = stat.traceback[0]
            print(f"  {stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks  {where}")
    met = rss_ok and threads_ok and widgets_ok and timers_ok
    print(f"all goals: {verdict(met)}")
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
