"""Plays scenarios against the real terminal, one fresh terminal per scenario, and says what
happened: per step its time and the rig's own share of it, on failure what was on the screen,
the receipt and the log.

The rig owns the event loop while a scenario runs: every wait pumps it (as the benches do), so
the terminal paints, its workers' answers arrive and its timers fire while the rig looks.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from kiosk.rig import scenario as sc
from kiosk.rig.loader import LoadedScenario, StepAt
from kiosk.rig.signed_config import RigSigners
from kiosk.rig.terminal import PlatformTemplate, RigSetupError, RigTerminal, pump_until
from kiosk.rig.touch import Toucher

log = logging.getLogger(__name__)
LOG_EXCERPT_LINES = 200
WAIT_SLICE = 0.002  # seconds slept between two looks while waiting (the loop is pumped between)
LOOK_EVERY = 0.01  # seconds between two looks at the screen while waiting (a look costs)
DEVICE_READY_SECONDS = 15.0
PLATFORM_READY_SECONDS = 30.0
CARD_READ_SECONDS = 10.0
SETTLE_SECONDS = 1.0  # after a report that a bundle waits for the visit to end


class StepFailed(Exception):
    """What a step expected did not happen; the message says what did."""


@dataclass
class StepResult:
    step: StepAt
    seconds: float = 0.0
    own_seconds: float = 0.0  # the rig's own work: not the app's, not waiting for it
    error: str | None = None


@dataclass
class ScenarioResult:
    loaded: LoadedScenario
    passed: bool = False
    seconds: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    failure: str | None = None
    detail: str = ""
    log: str = ""
    artifacts: list[Path] = field(default_factory=list)
    setup_seconds: float = 0.0


class LogCapture(logging.Handler):
    """The application's log during one scenario, redacted as the log files are."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        from kiosk.logs import RedactingFilter

        self.addFilter(RedactingFilter())
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a log line that cannot be formatted must not end the scenario
            self.lines.append(f"(unformattable log record from {record.name})")


class Clock:
    """Splits a step's wall time: the app's work (event loop, touches delivered) and waiting are
    counted apart from the rig's own work."""

    def __init__(self) -> None:
        self.app_seconds = 0.0

    @contextmanager
    def app_work(self) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.app_seconds += time.perf_counter() - began


@dataclass
class RigOptions:
    artifacts: Path
    work: Path
    screen: str = "offscreen"
    config_file: Path | None = None
    out: Callable[[str], None] = print
    ask_input: Any = None  # a file to read a person's Enter from (default stdin)


class Rig:
    def __init__(self, options: RigOptions) -> None:
        from kiosk.app import qt_app
        from kiosk.rig.terminal import base_settings

        self.options = options
        self.app = qt_app()
        self.base, self.simulate = base_settings(options.config_file)
        self.templates = PlatformTemplate(options.work)
        self.signers = RigSigners(options.work)
        self._n = 0

    def pump(self, ready: Callable[[], bool], timeout: float) -> bool:
        return pump_until(self.app, ready, timeout)

    def run(self, loaded: LoadedScenario) -> ScenarioResult:
        self._n += 1
        slug = f"{self._n:02d}-{_slug(loaded.path.stem)}"
        folder = self.options.artifacts / slug
        if folder.exists():
            shutil.rmtree(folder)
        result = ScenarioResult(loaded)
        capture = LogCapture()
        root = logging.getLogger()
        level = root.level
        root.addHandler(capture)
        root.setLevel(min(level, logging.INFO) if level else logging.INFO)
        crashes: list[str] = []
        previous_hook = sys.excepthook

        def crashed(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
            # An exception inside the app's slots during a scenario: that scenario fails.
            crashes.append("".join(traceback.format_exception(kind, exc, tb)))

        sys.excepthook = crashed
        began = time.perf_counter()
        terminal: RigTerminal | None = None
        play: Player | None = None
        try:
            terminal = RigTerminal(
                loaded, self.base, self.simulate, self.options.work / slug / "data",
                self.options.screen, self.templates, self.pump, self.signers,
            )  # fmt: skip
            terminal.start()
            play = Player(self, terminal, folder, crashes)
            play.settle()
            result.setup_seconds = time.perf_counter() - began
            play.play(result)
        except RigSetupError:
            raise
        except StepFailed as exc:  # the terminal did not come up as the scenario needs
            result.failure = f"setup: {exc}"
        except Exception as exc:
            result.failure = f"the rig or the terminal crashed: {type(exc).__name__}: {exc}"
            crashes.append(traceback.format_exc())
        finally:
            if play is not None and (result.failure or crashes):
                result.artifacts += play.failure_artifacts(capture.lines)
            try:
                if terminal is not None:
                    terminal.stop()
            except Exception:
                crashes.append("while stopping the terminal:\n" + traceback.format_exc())
            sys.excepthook = previous_hook
            root.removeHandler(capture)
            root.setLevel(level)
        if crashes:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "traceback.txt"
            path.write_text("\n".join(crashes), "utf-8")
            result.artifacts.append(path)
            if result.failure is None:
                result.failure = "the application raised an exception (traceback.txt)"
        result.seconds = time.perf_counter() - began
        result.passed = result.failure is None
        result.log = "\n".join(capture.lines)
        if play is not None:
            result.artifacts += [p for p in play.shots if p not in result.artifacts]
        return result


class Player:
    """Carries out one scenario's steps on its terminal."""

    def __init__(self, rig: Rig, terminal: RigTerminal, folder: Path, crashes: list[str]) -> None:
        self.rig, self.terminal, self.folder, self.crashes = rig, terminal, folder, crashes
        self.kiosk = terminal.app
        self.window = self.kiosk.window
        self.controller = self.kiosk.controller
        self.clock = Clock()
        self.toucher = Toucher(rig.options.screen, self.window)
        self.receipts_seen = 0
        self.shots: list[Path] = []
        self.last_receipt: bytes | None = None
        self.config_offered = 0  # the highest version this scenario published
        self._look_at = 0.0
        self.card_events: dict[str, int] = {"on": 0, "outcomes": 0}
        reader = self.kiosk.devices.id_card_reader
        if reader is not None:
            reader.add_card_listener(self._on_card)
        self.smart_events: dict[str, int] = {"on": 0, "outcomes": 0}
        smart = self.kiosk.devices.smart_card_reader
        if smart is not None:
            smart.add_card_listener(self._on_smart_card)

    def _on_card(self, event: Any) -> None:  # the reader's thread
        from drivers.idcard_reader import CardEventKind

        self.card_events["on"] = int(event.kind is not CardEventKind.REMOVED)
        if event.kind in (CardEventKind.READ, CardEventKind.FAILED):
            self.card_events["outcomes"] += 1

    def _on_smart_card(self, event: Any) -> None:  # the PC/SC thread
        from drivers.pcsc_reader import SmartCardEventKind

        self.smart_events["on"] = int(event.kind is not SmartCardEventKind.REMOVED)
        if event.kind is not SmartCardEventKind.REMOVED:
            self.smart_events["outcomes"] += 1

    # -- waiting ---------------------------------------------------------------------------------
    def pump_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        app = self.rig.app
        while True:
            if ready():
                return True
            if self.crashes:
                raise StepFailed("the application raised an exception (traceback.txt)")
            if time.monotonic() > end:
                return False
            with self.clock.app_work():
                app.processEvents()
                time.sleep(WAIT_SLICE)

    def pump(self, seconds: float = 0.0) -> None:
        with self.clock.app_work():
            self.rig.app.processEvents()
            if seconds:
                pump_until(self.rig.app, lambda: False, seconds)

    def settle(self) -> None:
        """The terminal on its attract screen, the devices the scenario needs ready, and the
        platform link as the scenario starts it."""
        scenario = self.terminal.loaded.scenario
        if not self.pump_until(lambda: self.state == "attract", 20):
            raise StepFailed(f"the terminal never showed its attract screen (state {self.state})")
        from contracts.device_kinds import DeviceKind
        from drivers.base import DeviceState

        for role in scenario.devices:
            device = self.kiosk.devices.devices.get(DeviceKind(role))
            if device is None:
                raise RigSetupError(f"{self.terminal.loaded.path}: needs a {role}; none configured")
            if not self.pump_until(_ready(device, DeviceState.READY), DEVICE_READY_SECONDS):
                status = device.status
                fault = status.fault.code if status.fault is not None else "no fault"
                raise StepFailed(
                    f"the {role} is {status.state.value} ({fault}) "
                    f"after {DEVICE_READY_SECONDS:.0f} s"
                )
        proxy = self.terminal.proxy
        if proxy is None:
            return
        if not self.pump_until(self.terminal.platform_ready.is_set, PLATFORM_READY_SECONDS):
            raise StepFailed(f"the platform was not up in {PLATFORM_READY_SECONDS:.0f} s")
        want = "offline" if proxy.is_cut else "online"
        sync = self.controller.sync
        if sync is not None:
            sync.wake()
        if not self.pump_until(lambda: self.view.sync_link == want, PLATFORM_READY_SECONDS):
            raise StepFailed(f"the platform link is {self.view.sync_link}, not {want}")

    # -- what the screen shows -------------------------------------------------------------------
    @property
    def view(self) -> Any:
        return self.controller.session.view()

    @property
    def state(self) -> str:
        return str(self.controller.session.state.value)

    def visible_texts(self) -> list[str]:
        out = []
        for widget in self.window.findChildren(QLabel) + self.window.findChildren(QAbstractButton):
            if widget.isVisible():
                text = widget.text()
                if text:
                    out.append(_plain(text))
        return out

    def shows(self, text: str) -> bool:
        return any(text in shown for shown in self.visible_texts())

    # -- playing ---------------------------------------------------------------------------------
    def play(self, result: ScenarioResult) -> None:
        loaded = self.terminal.loaded
        for step in loaded.steps:
            done = StepResult(step)
            result.steps.append(done)
            self.clock.app_seconds = 0.0
            began = time.perf_counter()
            try:
                self.do(step)
                if self.crashes:
                    raise StepFailed("the application raised an exception (traceback.txt)")
            except StepFailed as exc:
                done.error = str(exc)
            finally:
                done.seconds = time.perf_counter() - began
                done.own_seconds = max(0.0, done.seconds - self.clock.app_seconds)
            if done.error is not None:
                result.failure = (
                    f"step {len(result.steps)} ({loaded.path.name}:{step.line}) "
                    f"{step.describe()}: {done.error}"
                )
                return

    def do(self, step: StepAt) -> None:
        handler = getattr(self, f"step_{step.kind}")
        handler(step.value)

    # -- steps -----------------------------------------------------------------------------------
    def step_touch(self, value: str | sc.TouchArgs) -> None:
        args = sc.TouchArgs(control=value) if isinstance(value, str) else value
        found: list[QWidget | None] = [None]
        why: list[str] = ["not looked for yet"]

        def touchable() -> bool:
            widget, reason = self.toucher.find(args.control)
            found[0], why[0] = widget, reason
            return reason == ""

        if not self.pump_until(touchable, args.timeout):
            raise StepFailed(
                f"{args.control!r} {why[0]} after {args.timeout:g} s (state {self.state})"
            )
        widget = found[0]
        assert widget is not None
        with self.clock.app_work():
            self.toucher.touch(widget)
            self.rig.app.processEvents()

    def step_expect_control(self, args: sc.ControlArgs) -> None:
        said = {"touchable": "", "greyed": "is on screen but greyed (disabled)",
                "hidden": "is not on screen"}  # fmt: skip
        why = [""]

        def holds() -> bool:
            _widget, why[0] = self.toucher.find(args.control)
            if args.shown == "hidden":
                return why[0] in (said["hidden"], "is no control of the terminal's window")
            return why[0] == said[args.shown]

        if not self.pump_until(holds, args.timeout):
            now = why[0] or "is touchable"
            raise StepFailed(f"{args.control!r} {now}, not {args.shown} (state {self.state})")

    def step_present_card(self, value: str | sc.CardArgs) -> None:
        reader = self._sim("id_card_reader", "present")
        before = self.card_events["outcomes"]
        reader.present(_card(value))
        self.pump()
        if isinstance(value, sc.CardArgs) and not value.wait:
            return
        from drivers.base import DeviceState

        troubled = (DeviceState.FAULT, DeviceState.DEGRADED, DeviceState.ABSENT)

        def over() -> bool:  # read, failed, or the reader itself in trouble (a bad line)
            return self.card_events["outcomes"] > before or reader.status.state in troubled

        # As a resident holds the card still: until the reader has read it or given up.
        if not self.pump_until(over, CARD_READ_SECONDS):
            raise StepFailed(
                f"the reader neither read nor failed the card in {CARD_READ_SECONDS:g} s"
            )
        self.pump()

    def step_remove_card(self, _value: None) -> None:
        reader = self._sim("id_card_reader", "remove")
        seen = self.card_events
        reader.remove()
        # A hand takes a card away for longer than the reader's poll: done once the reader saw
        # it go (when it had seen it at all), so the next card laid is a new one.
        if seen.get("on") and not self.pump_until(lambda: not seen.get("on"), 5):
            raise StepFailed("the card reader did not notice the card go in 5 s")
        self.pump()

    def step_insert_smart_card(self, value: sc.SmartCardArgs | None) -> None:
        reader = self._sim("smart_card_reader", "insert")
        before = self.smart_events["outcomes"]
        reader.insert()
        self.pump()
        if value is not None and not value.wait:
            return
        from drivers.base import DeviceState

        troubled = (DeviceState.FAULT, DeviceState.DEGRADED, DeviceState.ABSENT)

        def over() -> bool:  # read (inserted), failed, or the reader itself in trouble
            return self.smart_events["outcomes"] > before or reader.status.state in troubled

        if not self.pump_until(over, CARD_READ_SECONDS):
            raise StepFailed(
                f"the PC/SC reader neither read nor failed the card in {CARD_READ_SECONDS:g} s"
            )
        self.pump()

    def step_remove_smart_card(self, _value: None) -> None:
        reader = self._sim("smart_card_reader", "remove")
        seen = self.smart_events
        reader.remove()
        if seen["on"] and not self.pump_until(lambda: not seen["on"], 5):
            raise StepFailed("the PC/SC reader did not notice the card go in 5 s")
        self.pump()

    def step_show_qr(self, value: str | sc.QrArgs) -> None:
        camera = self._sim("camera", "hold_up")
        camera.hold_up(_qr_text(value))
        self.pump()

    def step_hide_qr(self, _value: None) -> None:
        self._sim("camera", "hold_up").hold_up(None)
        self.pump()

    def step_inject(self, value: sc.FaultArgs) -> None:
        self._sim(value.device, "inject").inject(value.fault, True)
        self.pump()

    def step_clear(self, value: sc.FaultArgs) -> None:
        self._sim(value.device, "inject").inject(value.fault, False)
        self.pump()

    def step_unplug(self, role: str) -> None:
        self._sim(role, "inject").inject("unplugged", True)
        self.pump()

    def step_replug(self, role: str) -> None:
        self._sim(role, "inject").inject("unplugged", False)
        self.pump()

    def step_network(self, what: str) -> None:
        proxy = self.terminal.proxy
        if proxy is None:
            raise StepFailed("this rig has no network to the platform to cut (no proxy)")
        if what == "cut":
            proxy.cut()
        else:
            proxy.restore()
        # The terminal learns of the change at its next contact with the platform (a sync, the
        # backoff's next try); the technician's "sync now" makes that contact now.
        if self.controller.sync is not None:
            self.controller.sync.wake()
        self.pump()

    def step_elder(self, on: bool) -> None:
        self._toggle("elderButton", lambda: self.view.elder == on, f"in elder mode {on}")

    def step_contrast(self, on: bool) -> None:
        self._toggle("contrastButton", lambda: self.view.contrast == on, f"in contrast {on}")

    def step_language(self, value: str) -> None:
        self._toggle("languageButton", lambda: self.view.language == value, f"language {value}")

    def _toggle(self, control: str, done: Callable[[], bool], what: str) -> None:
        if done():
            return
        self.step_touch(control)
        if not self.pump_until(done, 5):
            raise StepFailed(f"{control} touched, but the terminal is not {what}")

    def step_wait_for(self, value: str | sc.WaitArgs) -> None:
        args = sc.WaitArgs(state=value) if isinstance(value, str) else value
        self._wait(args)

    def _wait(self, args: sc.WaitArgs) -> None:
        def holds() -> bool:
            if args.state is not None and self.state != args.state:
                return False
            if args.text is None:
                return True
            now = time.monotonic()  # the screen's texts cost a look: not at every pump
            if now < self._look_at:
                return False
            self._look_at = now + LOOK_EVERY
            return self.shows(args.text) != args.gone

        self._look_at = 0.0
        if self.pump_until(holds, args.timeout):
            return
        wanted = []
        if args.state:
            wanted.append(f"state {args.state}")
        if args.text:
            wanted.append(f"{args.text!r} {'gone from' if args.gone else 'on'} the screen")
        shown = "; ".join(t for t in self.visible_texts() if t.strip())[:400]
        raise StepFailed(
            f"waited {args.timeout:g} s for {' and '.join(wanted)}; state {self.state}, "
            f"the screen shows: {shown}"
        )

    def step_expect_receipt(self, args: sc.ReceiptArgs) -> None:
        from kiosk.rig.escpos_text import ReceiptDecodeError, decode

        jobs = self._receipt_source()
        if not self.pump_until(lambda: len(jobs()) > self.receipts_seen, args.timeout):
            raise StepFailed(
                f"no receipt printed in {args.timeout:g} s (state {self.state}, "
                f"receipt {self.view.receipt})"
            )
        # The sink writes a job's file as it ends: read it once it stops growing.
        sizes = [-1]

        def whole() -> bool:
            data = jobs()[self.receipts_seen]
            grown, sizes[0] = len(data) != sizes[0], len(data)
            if not grown:
                return True
            self.pump(0.05)
            return False

        self.pump_until(whole, 3)
        data = jobs()[self.receipts_seen]
        self.receipts_seen += 1
        self.last_receipt = data
        try:
            receipt = decode(data, self._encoding())
        except ReceiptDecodeError as exc:
            raise StepFailed(
                f"the receipt's bytes are not ESC/POS the rig can read: {exc}"
            ) from exc
        flat = _plain(receipt.text)
        missing = [t for t in args.text if _plain(t) not in flat]
        present = [t for t in args.absent if _plain(t) in flat]
        problems = []
        if missing:
            problems.append(f"missing {missing}")
        if present:
            problems.append(f"should not show {present}")
        if args.qr is not None:
            pattern = re.compile("^" + ".*".join(re.escape(p) for p in args.qr.split("*")) + "$")
            if not any(pattern.match(code) for code in receipt.qr):
                problems.append(f"no QR code {args.qr!r} (its codes: {receipt.qr})")
        if problems:
            self._save_receipt(data, receipt.text)
            raise StepFailed(
                f"the receipt {'; '.join(problems)}; it says: {' | '.join(receipt.lines)[:600]}"
            )

    def step_expect_no_receipt(self, _value: None) -> None:
        jobs = self._receipt_source()
        self.pump(0.3)  # a job on its way would have arrived by now
        count = len(jobs())
        if count > self.receipts_seen:
            self.last_receipt = jobs()[-1]
            raise StepFailed(f"{count - self.receipts_seen} receipt(s) printed")

    def step_expect_outbox(self, args: sc.RowsArgs) -> None:
        db = self.terminal.data_dir / "kiosk.db"
        query = "SELECT COUNT(*) FROM transactions t JOIN outbox o USING (seq) WHERE 1=1"
        params: list[str] = []
        if args.service is not None:
            query += " AND t.service = ?"
            params.append(args.service)
        if args.state is not None:
            query += " AND o.state = ?"
            params.append(args.state)
        self._expect_rows(db, query, params, args.count, args.timeout, "the outbox")

    def step_expect_platform(self, args: sc.PlatformRowsArgs) -> None:
        db = self.terminal.platform_db
        if db is None:
            raise StepFailed("platform rows are read from the embedded platform; this rig has none")
        query = "SELECT COUNT(*) FROM transactions WHERE kiosk_id = ?"
        params = [self.terminal.effective.central.kiosk_id]
        if args.service is not None:
            query += " AND service = ?"
            params.append(args.service)
        self._expect_rows(db, query, params, args.count, args.timeout, "the platform")

    def _expect_rows(
        self, db: Path, query: str, params: list[str], count: int, timeout: float, where: str
    ) -> None:
        seen: list[int] = [-1]

        def rows() -> int:
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                    return int(conn.execute(query, params).fetchone()[0])
            except sqlite3.Error:
                return -1

        def matches() -> bool:
            now = time.monotonic()
            if now < self._look_at:
                return False
            self._look_at = now + 0.05
            seen[0] = rows()
            return seen[0] == count

        self._look_at = 0.0
        if not self.pump_until(matches, timeout):
            found = "no database" if seen[0] < 0 else f"{seen[0]} row(s)"
            raise StepFailed(f"{where} has {found} after {timeout:g} s, expected {count}")

    def step_wait_timeout(self, value: sc.WaitTimeoutArgs | None) -> None:
        session = self.controller.session
        deadline = session._deadline
        clock = self.terminal.clock
        if deadline is None or clock is None:
            raise StepFailed(f"the {self.state} screen has no timeout to wait out")
        was = self.state
        clock.offset += max(0.0, deadline - clock()) + 0.01
        with self.clock.app_work():
            self.controller.tick()
            self.rig.app.processEvents()
        if value is not None and value.then is not None:
            self._wait(sc.WaitArgs(state=value.then, timeout=5))
        elif self.state == was and session._deadline == deadline:
            raise StepFailed(f"the {was} screen's timeout passed and nothing happened")

    def step_screenshot(self, name: str) -> None:
        self.shots.append(self.screenshot(name))

    def step_ask(self, value: str | sc.AskArgs) -> None:
        args = sc.AskArgs(prompt=value) if isinstance(value, str) else value
        from kiosk.rig.person import ask_person

        until = None
        if args.until is not None:
            wait = args.until

            def until() -> bool:
                return (wait.state is None or self.state == wait.state) and (
                    wait.text is None or self.shows(wait.text) != wait.gone
                )

        if not ask_person(args.prompt, until, args.timeout, self.pump_until, self.rig.options):
            raise StepFailed(f"asked {args.prompt!r}; not done in {args.timeout:g} s")

    def step_take_config(self, args: sc.ConfigArgs) -> None:
        from kiosk.config.bundle_store import ConfigStore, ConfigStoreError
        from kiosk.rig import signed_config as signed

        terminal = self.terminal
        platform_db = terminal.platform_db
        if platform_db is None:
            raise RigSetupError(
                "take_config publishes to the rig's embedded platform; this configuration "
                "names a platform of its own (publish there and wait_for what changes)"
            )
        kiosk_id = terminal.effective.central.kiosk_id
        if args.bundle is not None:
            raw = (terminal.loaded.path.parent / args.bundle).read_bytes()
        else:
            if terminal.rig_trust is None:
                raise RigSetupError(
                    "take_config signs with the rig's keys, but this configuration trusts "
                    "[central] config_trust: give a bundle file signed for it (bundle: FILE)"
                )
            try:
                highest = ConfigStore(terminal.data_dir / "config").state().highest
            except ConfigStoreError:
                highest = 0
            version = args.version or max(highest, self.config_offered) + 1
            raw = terminal.signers.bundle(
                signed.payload_of(args), version, kiosk_id, args.signatures
            )
        before = signed.last_report(platform_db, kiosk_id)
        with self.clock.app_work():  # the platform's command line: not the rig's own time
            try:
                version = _bundle_version(raw)
                signed.publish(raw, platform_db.parent, f"step-{self.config_offered + 1}.json")
            except signed.ConfigStepError as exc:
                raise StepFailed(str(exc)) from exc
        self.config_offered = max(self.config_offered, version)
        if self.controller.sync is not None:
            self.controller.sync.check_config_now()  # as the next config_interval would
        want = signed.expected(args)
        seen: list[signed.Report | None] = [before]

        def reported() -> bool:
            now = time.monotonic()
            if now < self._look_at:
                return False
            self._look_at = now + 0.05
            report = signed.last_report(platform_db, kiosk_id)
            if report is None or (before is not None and report.at <= before.at):
                return False
            seen[0] = report
            if want in ("taken_up", "waiting") and report.about != version:
                return False
            # A bundle applied is first reported waiting, then taken up (or rolled back).
            return report.outcome() != "waiting" or want == "waiting"

        self._look_at = 0.0
        if not self.pump_until(reported, args.timeout):
            last = seen[0]
            said = "no report" if last is None or last is before else last.describe()
            raise StepFailed(
                f"published version {version}; the terminal's report after {args.timeout:g} s: "
                f"{said} (state {self.state})"
            )
        report = seen[0]
        assert report is not None
        if report.outcome() != want:
            raise StepFailed(f"expected {want}; the terminal reported {report.describe()}")
        if args.reason is not None and args.reason not in report.reason:
            raise StepFailed(f"the report's reason has no {args.reason!r}: {report.describe()}")
        if want == "waiting":
            # The terminal got the bundle to take up as it sent that report: give it the time
            # to act on it, then it must still be waiting (its marker in the data directory).
            self.pump(SETTLE_SECONDS)
            later = signed.last_report(platform_db, kiosk_id)
            marker = terminal.data_dir / "config" / "taking-up.json"
            if later is None or later.outcome() != "waiting" or not marker.exists():
                said = later.describe() if later is not None else "no report"
                raise StepFailed(f"expected waiting; {SETTLE_SECONDS:g} s later: {said}")
        self.pump()

    # -- helpers ---------------------------------------------------------------------------------
    def _sim(self, role: str, method: str) -> Any:
        from contracts.device_kinds import DeviceKind

        device = self.kiosk.devices.devices.get(DeviceKind(role))
        if device is None:
            raise RigSetupError(f"no {role} is configured on this rig")
        if not hasattr(device, method):
            raise RigSetupError(
                f"the {role} is the {device.driver} driver, not a simulator: a scenario for real "
                f"devices asks a person instead (ask)"
            )
        return device

    def _receipt_source(self) -> Callable[[], list[bytes]]:
        printer = self.kiosk.devices.receipt_printer
        out_dir = getattr(printer, "out_dir", None)
        if out_dir is None:
            raise RigSetupError(
                "receipts are read from the simulated printer's bytes; this rig's printer is "
                f"{getattr(printer, 'driver', 'not configured')}"
            )

        def jobs() -> list[bytes]:
            return [p.read_bytes() for p in sorted(Path(out_dir).glob("receipt-*.bin"))]

        return jobs

    def _encoding(self) -> str:
        printer = self.kiosk.devices.receipt_printer
        profile = getattr(printer, "profile", None)
        return str(getattr(profile, "encoding", "gb18030"))

    def screenshot(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        self.pump()  # layouts a change just asked for are done before the picture
        if self.rig.options.screen == "x11":
            picture = QApplication.primaryScreen().grabWindow(0)  # what the X server shows
        else:
            picture = self.window.grab()
        picture.save(str(path))
        return path

    def _save_receipt(self, data: bytes, text: str) -> None:
        from drivers.escpos_preview import PreviewError, render_preview

        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "receipt.txt").write_text(text + "\n", "utf-8")
        try:
            render_preview(data, self._encoding()).save(self.folder / "receipt-preview.png")
        except (PreviewError, OSError) as exc:
            log.warning("rig: no receipt preview: %s", exc)

    def failure_artifacts(self, log_lines: list[str]) -> list[Path]:
        """What a person needs to see why it failed: the screen, the receipt, the log."""
        out: list[Path] = []
        try:
            out.append(self.screenshot("failure"))
        except Exception as exc:  # the screen may be gone with a crashed app
            log.warning("rig: no failure screenshot: %s", exc)
        if self.last_receipt is not None and not (self.folder / "receipt-preview.png").exists():
            from kiosk.rig.escpos_text import ReceiptDecodeError, decode

            try:
                text = decode(self.last_receipt, self._encoding()).text
            except ReceiptDecodeError as exc:
                text = f"(not decodable: {exc})"
            self._save_receipt(self.last_receipt, text)
        for name in ("receipt-preview.png", "receipt.txt"):
            if (self.folder / name).exists():
                out.append(self.folder / name)
        excerpt = self.folder / "log-excerpt.txt"
        excerpt.write_text("\n".join(log_lines[-LOG_EXCERPT_LINES:]) + "\n", "utf-8")
        out.append(excerpt)
        return out


def _ready(device: Any, state: Any) -> Callable[[], bool]:
    return lambda: bool(device.status.state is state)


def _plain(text: str) -> str:
    """Text as compared: no markup, no line breaks, single spaces."""
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(text.split())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "scenario"


def _card(value: str | sc.CardArgs) -> Any:
    import hashlib
    from datetime import date

    from drivers.idcard import IdCard
    from drivers.sim_cards import SAMPLE_CARDS, sample_photo

    name = value if isinstance(value, str) else value.resident
    if name is not None:
        return next(c for c in SAMPLE_CARDS if c.name == name)
    record = value.record  # type: ignore[union-attr]
    assert record is not None
    number = record.id_number
    birth = record.birth_date or date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return IdCard(
        name=record.name, sex=record.sex, nation=record.nation, birth_date=birth,
        address=record.address, id_number=number, authority=record.authority,
        valid_from=record.valid_from, valid_to=record.valid_to,
        photo_sha256=hashlib.sha256(sample_photo(number)).hexdigest(),
    )  # fmt: skip


def _bundle_version(raw: bytes) -> int:
    from kiosk.rig.signed_config import ConfigStepError

    try:
        version = json.loads(raw)["signed"]["version"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigStepError(f"not a configuration bundle ({exc})") from exc
    if not isinstance(version, int):
        raise ConfigStepError("the bundle's version is not a whole number")
    return version


def _qr_text(value: str | sc.QrArgs) -> str:
    if isinstance(value, str):
        return value
    if value.text is not None:
        return value.text
    from datetime import date

    from contracts.codes import sample_application_code, sample_appointment_code

    if value.sample == "application":
        return sample_application_code(value.serial)
    return sample_appointment_code(date.today(), value.serial)
