"""Screen switch benchmark: the time from a switch request to the new screen painted, on the real
terminal (``build(settings, simulate=True)``: every page, the simulator panel, the diagnostics
page, the controller and its simulated devices) shown at 1920x1080 on Qt's offscreen platform
(``tests/screen.json``). Goal: p95 <= 25 ms over 200 switches (issue 13; it was 50).

Two sources of switches, both by default (``--source``):

- gallery: ``window.show_view(view)`` cycling through ``gallery_views()`` in zh_CN and en: every
  screen and its variants (reading, failures, unavailable tiles, answers, warnings, goodbye).
  Consecutive views always differ; some are the same page with other content, as in a visit.
  It runs before the devices start: a device status change would have the controller show its
  own view in the middle (a switch disturbed that way anyway is retaken and counted).
- visit: real events through ``controller.dispatch(event)``, so the session and the controller's
  view publishing are included: start, choose a service, a card read, an option, the keyboard
  and keypad steps, confirm, next, rate, and the goodbye screen's timeout (``controller.tick()``
  with the session's clock moved on). Visits cycle a queue ticket, feedback and a call for
  staff, alternating languages. Not timed: the step from processing to the result screen, whose
  request comes from the outbox worker once the record is committed.

"Painted": an event filter on the target page sees its QEvent.Paint, and the event loop is run
(``processEvents``) from the request until the page has painted and then until a pass brings no
further UpdateRequest to the window (a relayout that repaints), or until the next switch begins
(the result screen replacing processing). The time is taken when the last pass in which the page
painted returns. Qt paints a window in one go while it handles one
UpdateRequest (the page, then its children, then the flush to the backing store), so the end of
that pass is the moment the whole new screen is in the frame, not merely the start of the page's
own paintEvent. A forced ``window.repaint()`` or ``grab()`` was not used: it paints at once with
whatever layout exists at that instant, before Qt's posted LayoutRequests have run, and repaints
the whole window where Qt would repaint less, so it times something the terminal never does.
Some switches paint twice (a relayout after the first frame); "painted" counts to the last, and
the first frame is reported too. A missed goal is reported, not an error: the exit status is
non-zero only when the benchmark itself fails.

    .venv/bin/python tests/benches/bench_screen_switch.py [--switches 200] [--source both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import headless

ROOT = headless.ROOT

from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from drivers.base import DeviceState  # noqa: E402
from drivers.sim_cards import SAMPLE_CARDS  # noqa: E402
from kiosk.app import KioskApp, build, qt_app  # noqa: E402
from kiosk.config.settings import load_settings  # noqa: E402
from kiosk.gallery import gallery_views  # noqa: E402
from kiosk.visit.session import (  # noqa: E402
    CardRead,
    ChooseOption,
    ChooseService,
    Confirm,
    Entered,
    Event,
    Rate,
    SetLanguage,
    Start,
    State,
    SubmitRating,
    VisitView,
)

GOAL_P95_MS = 25.0
PAINT_TIMEOUT = 5.0  # seconds: a switch that has not painted by then is a failure
QUIET_PASSES = 3  # event-loop passes without an UpdateRequest that end a switch


class PaintWatch(QObject):
    """Counts Paint events on the armed page and UpdateRequests on the window."""

    def __init__(self, window: QWidget) -> None:
        super().__init__()
        self.window = window
        self.pages: tuple[QObject, ...] = ()
        self.page_paints = 0
        self.updates = 0
        window.installEventFilter(self)

    def watch(self, page: QWidget) -> None:
        page.installEventFilter(self)

    def arm(self, *pages: QWidget) -> None:
        self.pages, self.page_paints, self.updates = pages, 0, 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Paint and watched in self.pages:
            self.page_paints += 1
        elif kind == QEvent.Type.UpdateRequest and watched is self.window:
            self.updates += 1
        return False


class ShiftedClock:
    """The session's clock, moved on at will: the goodbye screen's timeout without the wait."""

    def __init__(self, base: Callable[[], float]) -> None:
        self.base, self.offset = base, 0.0

    def __call__(self) -> float:
        return self.base() + self.offset


class Switcher:
    def __init__(self, app: QApplication, kiosk: KioskApp) -> None:
        self.app, self.kiosk = app, kiosk
        self.window = kiosk.window
        self.watch = PaintWatch(self.window)
        for page in self.window.screens.values():
            self.watch.watch(page)
        self.published = 0
        kiosk.controller.add_view_listener(self._published)

    def _published(self, view: VisitView) -> None:
        self.published += 1

    def switch(self, request: Callable[[], None], *states: State) -> tuple[float, float]:
        """Milliseconds from *request* to the page for one of *states* painted: first frame,
        settled."""
        pages = [self.window.screens[state] for state in states]
        self.watch.arm(*pages)
        started = time.perf_counter()
        request()
        deadline = started + PAINT_TIMEOUT
        first = last = 0.0
        quiet = 0
        shown: QWidget | None = None
        while quiet < QUIET_PASSES:
            paints, updates = self.watch.page_paints, self.watch.updates
            self.app.processEvents()
            now = time.perf_counter()
            if shown is not None and self.window.stack.currentWidget() is not shown:
                break  # the next switch has begun (the result after processing): not this one's
            if self.watch.page_paints > paints:
                first, last = first or now, now
                shown = self.window.stack.currentWidget()
            quiet = quiet + 1 if first and self.watch.updates == updates else 0
            if now > deadline:
                raise RuntimeError(f"no {states[0].value} page painted within {PAINT_TIMEOUT} s")
        if shown not in pages:
            raise RuntimeError(f"asked for {states[0].value}, the window shows something else")
        return (first - started) * 1000, (last - started) * 1000

    def settle(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.005)

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > end:
                raise RuntimeError(f"timed out waiting for {what}")
            self.app.processEvents()
            time.sleep(0.001)


def gallery_switches(switcher: Switcher, count: int) -> tuple[list[float], list[float], int]:
    """*count* switches cycling through every gallery view in both languages."""
    views = [view for lang in ("zh_CN", "en") for _, view in gallery_views(lang)]
    window = switcher.window
    firsts: list[float] = []
    settled: list[float] = []
    disturbed = 0
    window.show_view(views[-1])  # the cycle's last view: the first switch changes the screen
    switcher.settle(0.1)
    i = 0
    while len(settled) < count:
        view = views[i % len(views)]
        i += 1
        published = switcher.published
        first, last = switcher.switch(partial(window.show_view, view), view.state)
        if switcher.published != published:
            disturbed += 1  # the controller showed its own view meanwhile: not a clean sample
            continue
        firsts.append(first)
        settled.append(last)
    # Back to what the session shows, so the visit source starts where the controller is.
    window.show_view(switcher.kiosk.controller.session.view())
    switcher.settle(0.2)
    return firsts, settled, disturbed


# The processing screen may never be painted: a local record commits in a millisecond or two,
# and the result can take its place before the next frame. Either is the switch painted.
AFTER_CONFIRM = (State.PROCESSING, State.RESULT)


def visit_steps(n: int) -> Iterator[tuple[str, Event | None, tuple[State, ...]]]:
    """The events of visit *n* in order, with the screens each one may lead to; "recorded" is
    the outbox's answer (waited for, not timed), "tick" the goodbye screen's timeout."""
    card = SAMPLE_CARDS[n % len(SAMPLE_CARDS)]
    kind = n % 3
    yield "start", Start(), (State.CATALOGUE,)
    if kind == 0:
        yield "service", ChooseService("queue_ticket"), (State.IDENTIFY,)
        yield "card", CardRead(card), (State.CHOOSE,)
        yield "option", ChooseOption("social_security"), (State.CONFIRM,)
        yield "confirm", Confirm(), AFTER_CONFIRM
        yield "recorded", None, (State.RESULT,)
        yield "next", Confirm(), (State.RATING,)
        yield "rate", Rate(5), (State.RATING,)  # the face: the reasons come up
        yield "submit", SubmitRating(), (State.GOODBYE,)
    elif kind == 1:
        yield "service", ChooseService("feedback"), (State.FEEDBACK,)
        yield "text", Entered("窗口很好找，谢谢"), (State.KEYPAD,)
        yield "phone", Entered("13800138000"), (State.CONFIRM,)
        yield "confirm", Confirm(), AFTER_CONFIRM
        yield "recorded", None, (State.RESULT,)
        yield "next", Confirm(), (State.RATING,)
        yield "rate", Rate(4), (State.RATING,)
        yield "submit", SubmitRating(), (State.GOODBYE,)
    else:
        yield "service", ChooseService("call_staff"), (State.RESULT,)
        yield "next", Confirm(), (State.GOODBYE,)
    yield "tick", None, (State.ATTRACT,)


def visit_switches(
    switcher: Switcher, count: int
) -> tuple[list[float], list[float], int, dict[str, list[float]]]:
    """*count* switches made by real events through the controller (whole visits)."""
    kiosk = switcher.kiosk
    controller, session = kiosk.controller, kiosk.controller.session
    clock = ShiftedClock(session._clock)
    session._clock = clock
    goodbye = float(session.timeouts.goodbye)

    def leave_goodbye() -> None:
        clock.offset += goodbye
        controller.tick()

    firsts: list[float] = []
    settled: list[float] = []
    by_step: dict[str, list[float]] = {}
    visits = 0
    try:
        while len(settled) < count:
            if session.state is not State.ATTRACT:
                raise RuntimeError(f"a visit starts on the attract screen, not {session.state}")
            language = "en" if visits % 2 else "zh_CN"
            controller.dispatch(SetLanguage(language))  # not a screen switch: not timed
            switcher.settle(0.01)
            for name, event, states in visit_steps(visits):
                if name == "recorded":
                    switcher.wait_for(
                        lambda: (
                            session.state is State.RESULT
                            and session.view().receipt in (None, "printed", "failed")
                        ),
                        "the record and the receipt",
                    )
                    continue
                request = leave_goodbye if event is None else partial(controller.dispatch, event)
                first, last = switcher.switch(request, *states)
                if session.state not in states:
                    raise RuntimeError(f"{name}: expected {states[0].value}, the session is in "
                                       f"{session.state.value}")  # fmt: skip
                if len(settled) < count:  # the last visit is finished, its extra steps not kept
                    firsts.append(first)
                    settled.append(last)
                    by_step.setdefault(f"{name}->{session.state.value}", []).append(last)
            visits += 1
    finally:
        session._clock = clock.base
    return firsts, settled, visits, by_step


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def report(title: str, firsts: list[float], settled: list[float]) -> bool:
    met = p95(settled) <= GOAL_P95_MS
    print(title)
    print(f"  median {statistics.median(settled):.1f} ms")
    print(f"  p95    {p95(settled):.1f} ms")
    print(f"  max    {max(settled):.1f} ms")
    print(f"  first frame only: median {statistics.median(firsts):.1f} ms, p95 {p95(firsts):.1f} "
          f"ms, max {max(firsts):.1f} ms")  # fmt: skip
    print(f"  goal p95 <= {GOAL_P95_MS:.0f} ms: {'met' if met else 'MISSED'}", flush=True)
    return met


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--switches", type=int, default=200, help="timed switches per source")
    parser.add_argument("--source", choices=("gallery", "visit", "both"), default="both")
    parser.add_argument("--warmup", type=int, default=20, help="untimed switches first")
    args = parser.parse_args()
    app = qt_app()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; "
          f"platform {QApplication.platformName()}; voice engine "
          f"{os.environ['KIOSK_VOICE_ENGINE']}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data")
        kiosk = build(settings, simulate=True)
        window = kiosk.window
        window.resize(1920, 1080)
        window.show()
        switcher = Switcher(app, kiosk)
        try:
            switcher.settle(1.0)  # the first frame, the outbox opening, the sync status
            size = window.size()
            print(f"window {size.width()}x{size.height()}, {len(window.screens)} pages")
            if args.source in ("gallery", "both"):
                # Devices not started yet: nothing but the switches changes the screen.
                gallery_switches(switcher, args.warmup)
                firsts, settled, disturbed = gallery_switches(switcher, args.switches)
                views = 2 * len(gallery_views("zh_CN"))
                note = f", {disturbed} disturbed and retaken" if disturbed else ""
                report(f"gallery: {len(settled)} switches cycling {views} views, "
                       f"window.show_view -> painted{note}", firsts, settled)  # fmt: skip
            kiosk.controller.start()
            reader = kiosk.devices.id_card_reader
            if reader is not None:
                switcher.wait_for(lambda: reader.status.state is DeviceState.READY, "the reader")
            if args.source in ("visit", "both"):
                switcher.settle(0.5)
                visit_switches(switcher, args.warmup)
                firsts, settled, visits, by_step = visit_switches(switcher, args.switches)
                report(f"visit: {len(settled)} switches in {visits} visits (ticket, feedback, "
                       f"staff), controller.dispatch -> painted", firsts, settled)  # fmt: skip
                slowest = sorted(by_step.items(), key=lambda kv: -max(kv[1]))[:4]
                print("  slowest steps (max, median): " + ", ".join(
                    f"{step} {max(ms):.1f}/{statistics.median(ms):.1f} ms" for step, ms in slowest
                ))  # fmt: skip
        finally:
            kiosk.shutdown()
            window.close()


if __name__ == "__main__":
    main()
