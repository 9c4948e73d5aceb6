"""The diagnostics mode's screen: a column of page buttons (devices, self-tests, queue, logs,
bundle, leave) and the page shown beside it. Devices come first, with every problem in plain words
at the top, so "printer: paper out" is the first thing a technician reads after the PIN.

No page ever holds a resident's data: the mode starts only after the visit has been wiped, and
everything shown comes from device rows, self-test results, outbox counts and masked log lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.technician.mode import DiagnosticsService, QueueFacts
from kiosk.technician.said import render, said
from kiosk.technician.selftests import SELFTESTS, SelfTestResult
from kiosk.technician.speech import UNAVAILABLE, SpeechState
from kiosk.texts import Texts
from kiosk.visit.view import State, VisitView
from runtime.supervisor import Health
from screens import theme
from screens.technician import localized_words as words
from screens.translation import QtTexts
from screens.widgets import Spinner, button, label

LIVE_MS = 1000  # device rows are in memory: the page follows them live
QUEUE_MS = 2000
# A scroll bar a fingertip can hit and hold (a mouse-sized one is ~15 px), its handle as tall as
# a button.
SCROLL_BAR_PX = 56
SCROLL_HANDLE_MIN_PX = 96

_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


def _text(name: str, role: str = "diag") -> QLabel:
    return label(role, name, align=_LEFT)


def _touch_scrolling(area: QAbstractScrollArea) -> None:
    """Both ways to scroll by finger: drag the page itself, or the wide bar beside it (which
    also shows there is more, and how much)."""
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # lines wrap
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)


def _scrolling(inner: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(inner)
    _touch_scrolling(area)
    return area


def _scroll_bar_sheet(k: theme.Look) -> str:
    """The wide scroll bar in the look's colours (a sheet of the mode's own, as the keyboard
    has: it follows the look the window shows)."""
    bar = "#DiagnosticsScreen QScrollBar"
    return f"""
        {bar}:vertical {{
            width: {SCROLL_BAR_PX}px; background: {k.pressed_bg}; margin: 0;
            border-left: 2px solid {k.rule};
        }}
        {bar}::handle:vertical {{
            background: {k.primary}; min-height: {SCROLL_HANDLE_MIN_PX}px;
            border-radius: {SCROLL_BAR_PX // 2 - 8}px; margin: 6px;
        }}
        {bar}::add-line:vertical, {bar}::sub-line:vertical {{ height: 0; border: none; }}
        {bar}::add-page:vertical, {bar}::sub-page:vertical {{ background: none; }}
    """


def _breakable(path: str) -> str:
    """A long path that may wrap after each separator (a zero-width space)."""
    return path.replace("/", "/\u200b")


class _Page(QWidget):
    def __init__(self, service: DiagnosticsService) -> None:
        super().__init__()
        self.service = service
        self.t: Texts = QtTexts("zh_CN")
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(48, 32, 48, 32)
        self.column.setSpacing(20)

    def set_texts(self, t: Texts) -> None:
        self.t = t

    def shown(self) -> None:
        """The technician opened this page."""

    def hidden(self) -> None:
        """Another page (or attract) took its place."""


# -- devices ------------------------------------------------------------------------------------
class DevicesPage(_Page):
    def __init__(self, service: DiagnosticsService) -> None:
        super().__init__(service)
        self.summary = _text("diagSummary", "diagproblem")
        self.cards: dict[str, QLabel] = {}
        inner = QWidget()
        self.cards_column = QVBoxLayout(inner)
        self.cards_column.setContentsMargins(0, 0, 0, 0)
        self.cards_column.setSpacing(16)
        self.cards_column.addStretch(1)
        self.refresh = button("diagRefresh", self._refresh_now)
        self.spinner = Spinner(72)
        self.spinner.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.refresh)
        bottom.addWidget(self.spinner)
        bottom.addStretch(1)
        self.column.addWidget(self.summary)
        self.column.addWidget(_scrolling(inner), 1)
        self.column.addLayout(bottom)
        self._rows: list[dict[str, Any]] = []
        self._speech: SpeechState | None = None
        self._workers: list[Health] = []
        self._live = QTimer(self)
        self._live.setInterval(LIVE_MS)
        self._live.timeout.connect(self.reload)

    def set_texts(self, t: Texts) -> None:
        super().set_texts(t)
        self.refresh.setText(t("diag.refresh"))
        self._render()

    def shown(self) -> None:
        self.reload()
        self._live.start()

    def hidden(self) -> None:
        self._live.stop()

    def reload(self) -> None:
        self.show_rows(self.service.device_rows())

    def _refresh_now(self) -> None:
        self.refresh.setEnabled(False)
        self.spinner.show()

        def done(rows: list[dict[str, Any]]) -> None:
            self.refresh.setEnabled(True)
            self.spinner.hide()
            self.show_rows(rows)

        self.service.refresh_devices(done)

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        speech = self.service.speech_state()  # beside the devices: a silent terminal shows here
        workers = self.service.worker_health()
        if rows != self._rows or speech != self._speech or workers != self._workers:
            self._rows, self._speech, self._workers = rows, speech, workers
            self._render()

    def _problem(self, row: dict[str, Any]) -> str | None:
        if row["fault"] is not None:
            return words.problem(row["kind"], row["fault"]["code"], self.t)
        if row["problem"] is not None:  # absent or still connecting, without a fault
            return words.problem(row["kind"], row["state"], self.t)
        return None

    def _render(self) -> None:
        t = self.t
        problems = [p for p in map(self._problem, self._rows) if p]
        speech = self._speech
        if speech is not None and speech.state == UNAVAILABLE:
            problems.append(render([said("diag.result.voice_down", why=speech.why())], t))
        problems += [
            t("diag.worker.restarting", name=w.name, fault=w.fault or "")
            for w in self._workers
            if w.state == "restarting"
        ]
        self.summary.setText("\n".join(problems) if problems else t("diag.summary.ok"))
        self.summary.setProperty("ok", not problems)
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        for row in self._rows:
            self._card(row["name"]).setText(self._card_text(row))
        if speech is not None:
            self._card("speech").setText(self._speech_text(speech))
        if self._workers:
            self._card("workers").setText(self._workers_text())

    def _workers_text(self) -> str:
        """One line per supervised worker: its state, how often it came back, its last crash."""
        t = self.t
        lines = [t("diag.worker.title")]
        for w in sorted(self._workers, key=lambda w: w.name):
            line = t("diag.worker.line", name=w.name, state=t(f"diag.worker.state.{w.state}"),
                     restarts=w.restarts)  # fmt: skip
            if w.fault:
                line += "  " + t("diag.worker.last", fault=w.fault, at=words.when(w.fault_at, t))
            lines.append(line)
        return "\n".join(lines)

    def _card(self, name: str) -> QLabel:
        card = self.cards.get(name)
        if card is None:
            card = _text(f"device_{name}", "diagcard")
            self.cards[name] = card
            self.cards_column.insertWidget(self.cards_column.count() - 1, card)
        return card

    def _head(self, kind: str, state: str, trouble: str | None) -> str:
        t = self.t
        head = f"{words.noun(kind, t)}  ·  {words.state(state, t)}"
        return f"{head}{'：' if t.language == 'zh_CN' else ': '}{trouble}" if trouble else head

    def _card_text(self, row: dict[str, Any]) -> str:
        t = self.t
        kind = row["kind"]
        fault = row["fault"] and words.fault(kind, str(row["fault"]["code"]), t)
        where = row["where"] and _breakable(str(row["where"]))
        where = f"  {t('diag.device.where', where=where)}" if where else ""
        c = row["counters"]
        lines = [
            self._head(kind, row["state"], fault),
            t("diag.device.driver", driver=row["driver"]) + where,
            t(
                "diag.device.counters",
                since=words.when(c["since"], t),
                ops=c["operations"],
                faults=c["faults"],
                reconnects=c["reconnects"],
            ),
        ]
        last = row["last_fault"]
        if last is None:
            lines.append(t("diag.device.no_fault"))
        else:
            lines.append(
                t(
                    "diag.device.last_fault",
                    words=words.fault(kind, str(last["code"]), t),
                    code=last["code"],
                    at=words.when(last.get("at"), t),
                )
                + (f" — {last['detail']}" if last.get("detail") else "")
            )
        lines += [f"{fact}: {value}" for fact, value in row["facts"].items()]
        return "\n".join(lines)

    def _speech_text(self, speech: SpeechState) -> str:
        t = self.t
        trouble = render([speech.why()], t) if speech.state == UNAVAILABLE else None
        lines = [self._head("speech", speech.state, trouble)]
        if speech.engine:
            lines.append(t("diag.speech.engine", engine=speech.service))
        return "\n".join(lines)


# -- self-tests ---------------------------------------------------------------------------------
class SelfTestsPage(_Page):
    def __init__(self, service: DiagnosticsService) -> None:
        super().__init__(service)
        grid = QGridLayout()
        grid.setHorizontalSpacing(32)
        grid.setVerticalSpacing(16)
        grid.setColumnStretch(2, 1)
        self.buttons: dict[str, QPushButton] = {}
        self.results: dict[str, QLabel] = {}
        self.spinners: dict[str, Spinner] = {}
        self._last: dict[str, SelfTestResult] = {}
        self._running: str | None = None
        for i, name in enumerate(SELFTESTS):
            btn = button(f"selftest_{name}", self._runner(name), "diagtest")
            btn.setFixedWidth(500)
            spinner = Spinner(64)
            spinner.hide()
            policy = spinner.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            spinner.setSizePolicy(policy)
            result = label(
                "diagresult",
                f"selftestResult_{name}",
                align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            )
            grid.addWidget(btn, i, 0)
            grid.addWidget(spinner, i, 1)
            grid.addWidget(result, i, 2)
            self.buttons[name], self.results[name], self.spinners[name] = btn, result, spinner
        inner = QWidget()  # long results wrap: in a larger look the list may outgrow the page
        inner_column = QVBoxLayout(inner)
        inner_column.setContentsMargins(0, 0, 0, 0)
        inner_column.addLayout(grid)
        inner_column.addStretch(1)
        self.column.addWidget(_scrolling(inner), 1)

    def _runner(self, name: str) -> Callable[[], None]:
        return lambda: self.run(name)

    def set_texts(self, t: Texts) -> None:
        super().set_texts(t)
        for name, btn in self.buttons.items():
            btn.setText(t(f"diag.selftest.{name}"))
            self._show_result(name)

    def run(self, name: str) -> None:
        if self._running is not None:
            return
        self._running = name
        for btn in self.buttons.values():
            btn.setEnabled(False)
        self.spinners[name].show()
        self._show_result(name)
        self.service.selftest(name, self._finished)

    def _finished(self, result: SelfTestResult) -> None:
        self._last[result.name] = result
        self.spinners[result.name].hide()
        self._running = None
        for btn in self.buttons.values():
            btn.setEnabled(True)
        self._show_result(result.name)

    def _show_result(self, name: str) -> None:
        t, lab = self.t, self.results[name]
        result = self._last.get(name)
        if self._running == name:
            text, verdict = t("diag.selftest.running"), "running"
        elif result is None:
            text, verdict = t("diag.selftest.not_run"), "none"
        else:
            verdict = result.verdict
            took = t("diag.selftest.took", s=result.duration)
            text = f"{t(f'diag.verdict.{verdict}')} — {words.result(result, t)} {took}"
        lab.setText(text)
        if lab.property("verdict") != verdict:
            lab.setProperty("verdict", verdict)
            lab.style().unpolish(lab)
            lab.style().polish(lab)


# -- queue --------------------------------------------------------------------------------------
class QueuePage(_Page):
    def __init__(self, service: DiagnosticsService) -> None:
        super().__init__(service)
        self.link = _text("queueLink", "diagheading")
        self.counts = _text("queueCounts")
        self.oldest = _text("queueOldest")
        self.last_sync = _text("queueLastSync")
        self.sync_now = button("queueSyncNow", self._sync_now)
        self.dead_title = _text("queueDeadTitle", "diagheading")
        self.dead = _text("queueDead")
        inner = QWidget()
        dead_column = QVBoxLayout(inner)
        dead_column.setContentsMargins(0, 0, 0, 0)
        dead_column.addWidget(self.dead)
        dead_column.addStretch(1)
        for w in (self.link, self.counts, self.oldest, self.last_sync):
            self.column.addWidget(w)
        self.column.addWidget(self.sync_now, 0, Qt.AlignmentFlag.AlignLeft)
        self.column.addWidget(self.dead_title)
        self.column.addWidget(_scrolling(inner), 1)
        self._facts: QueueFacts | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(QUEUE_MS)
        self._timer.timeout.connect(self.reload)

    def set_texts(self, t: Texts) -> None:
        super().set_texts(t)
        self.sync_now.setText(t("diag.queue.sync_now"))
        self.dead_title.setText(t("diag.queue.dead_title"))
        self._render()

    def shown(self) -> None:
        self.reload()
        self._timer.start()

    def hidden(self) -> None:
        self._timer.stop()

    def reload(self) -> None:
        self.service.queue(self._loaded)

    def _loaded(self, facts: QueueFacts) -> None:
        self._facts = facts
        self._render()

    def _sync_now(self) -> None:
        self.service.sync_now()
        QTimer.singleShot(500, self.reload)

    def _render(self) -> None:
        t, facts = self.t, self._facts
        if facts is None:
            for w in (self.link, self.counts, self.oldest, self.last_sync, self.dead):
                w.setText("")
            return
        self.link.setText(t("diag.queue.link", link=t(f"diag.link.{facts.link}") or facts.link))
        stats = facts.stats
        if not stats.get("present"):
            self.counts.setText(t("diag.queue.closed"))
            self.oldest.setText("")
            self.dead.setText("")
        else:
            by_state = stats.get("by_state") or {}
            self.counts.setText(
                t(
                    "diag.queue.counts",
                    pending=by_state.get("pending", 0),
                    sent=by_state.get("sent", 0),
                    acknowledged=by_state.get("acknowledged", 0),
                    dead=by_state.get("dead", 0),
                )
            )
            age = stats.get("oldest_pending_age_seconds")
            oldest = (
                t("diag.queue.oldest", age=words.duration(age, t))
                if age is not None
                else t("diag.queue.none_waiting")
            )
            if stats.get("awaiting_key"):
                oldest += "\n" + t("diag.queue.awaiting_key", count=stats["awaiting_key"])
            self.oldest.setText(oldest)
            dead = stats.get("dead_letters") or []
            self.dead.setText(
                "\n".join(
                    f"#{d['seq']}  {d['service']}  {words.when(d['died_at'], t)}\n    {d['reason']}"
                    for d in dead
                )
                or t("diag.queue.no_dead")
            )
        result = (
            # Unconfigured: the link line above says so in the terminal's language already.
            (facts.last_error if facts.link != "unconfigured" else None)
            or (stats.get("last_sync") and words.stamped(stats["last_sync"], t))
            or words.when(facts.last_success_at, t)
        )
        self.last_sync.setText(t("diag.queue.last_sync", result=result or t("diag.queue.never")))


# -- logs ---------------------------------------------------------------------------------------
class LogsPage(_Page):
    def __init__(self, service: DiagnosticsService) -> None:
        super().__init__(service)
        filters = QHBoxLayout()
        filters.setSpacing(12)
        # Log entries name the device (``device``); the buttons say what kind it is.
        self.filters: dict[str | None, QPushButton] = {}
        self.kinds: dict[str | None, str | None] = {None: None}
        for dev in service.devices.devices.values():
            self.kinds[dev.name] = dev.kind.value
        for name in self.kinds:
            btn = button(f"logsFilter_{name or 'all'}", self._chooser(name), "diagfilter")
            btn.setCheckable(True)
            filters.addWidget(btn)
            self.filters[name] = btn
        filters.addStretch(1)
        self.text = QPlainTextEdit()
        self.text.setObjectName("logsText")
        self.text.setReadOnly(True)
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no keyboard pops up, none is needed
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        _touch_scrolling(self.text)
        self.column.addLayout(filters)
        self.column.addWidget(self.text, 1)
        self.device: str | None = None
        self._entries: list[dict[str, Any]] | None = None

    def _chooser(self, device: str | None) -> Callable[[], None]:
        return lambda: self.choose(device)

    def set_texts(self, t: Texts) -> None:
        super().set_texts(t)
        for name, btn in self.filters.items():
            kind = self.kinds[name]
            btn.setText(words.noun(kind, t) if kind else t("diag.logs.all"))
            btn.setChecked(name == self.device)
        self._render()

    def shown(self) -> None:
        self.choose(self.device)

    def choose(self, device: str | None) -> None:
        self.device = device
        for kind, btn in self.filters.items():
            btn.setChecked(kind == device)
        self.service.logs(device, self._loaded)

    def _loaded(self, entries: list[dict[str, Any]]) -> None:
        self._entries = entries
        self._render()

    def _render(self) -> None:
        if self._entries is None:
            return
        t = self.t
        lines = [
            f"{words.when(e.get('ts'), t, seconds=True)} {e.get('level', '')!s:<7} "
            f"{e.get('device') or e.get('logger', '')}: {e.get('message', '')}"
            for e in self._entries
        ]
        self.text.setPlainText("\n".join(lines) or self.t("diag.logs.empty"))
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())  # newest last, in view


# -- bundle -------------------------------------------------------------------------------------
class BundlePage(_Page):
    def __init__(self, service: DiagnosticsService) -> None:
        super().__init__(service)
        self.about = _text("bundleAbout")
        self.write = button("bundleWrite", self._write, "primary")
        self.spinner = Spinner(72)
        self.spinner.hide()
        self.result = _text("bundlePath", "diagresult")
        row = QHBoxLayout()
        row.addWidget(self.write)
        row.addWidget(self.spinner)
        row.addStretch(1)
        self.column.addWidget(self.about)
        self.column.addLayout(row)
        self.column.addWidget(self.result)
        self.column.addStretch(1)
        self.path: str | None = None

    def set_texts(self, t: Texts) -> None:
        super().set_texts(t)
        self.about.setText(t("diag.bundle.about"))
        self.write.setText(t("diag.bundle.write"))
        if self.path:
            self.result.setText(t("diag.bundle.written", path=_breakable(self.path)))

    def _write(self) -> None:
        self.write.setEnabled(False)
        self.spinner.show()
        self.result.setText(self.t("diag.busy"))
        self.service.bundle(self._written)

    def _written(self, path: str) -> None:
        self.write.setEnabled(True)
        self.spinner.hide()
        self.path = path
        self.result.setText(self.t("diag.bundle.written", path=_breakable(path)))


# -- the screen ---------------------------------------------------------------------------------
PAGES = ("devices", "selftests", "queue", "logs", "bundle")


class DiagnosticsScreen(QWidget):
    """The page the window shows in ``State.TECHNICIAN``."""

    def __init__(self, service: DiagnosticsService, on_leave: Callable[[], None]) -> None:
        super().__init__()
        self.setObjectName("DiagnosticsScreen")
        # Shown without the footer, so it may be taller than the resident's pages: its own
        # minimum must not make the shared stack (and the window) grow while they show.
        self.setMinimumSize(1, 1)
        self.service = service
        self.pages: dict[str, _Page] = {
            "devices": DevicesPage(service),
            "selftests": SelfTestsPage(service),
            "queue": QueuePage(service),
            "logs": LogsPage(service),
            "bundle": BundlePage(service),
        }
        nav = QFrame()
        nav.setObjectName("DiagNav")
        nav.setFixedWidth(400)
        nav_column = QVBoxLayout(nav)
        nav_column.setContentsMargins(24, 24, 24, 24)
        nav_column.setSpacing(14)
        self.heading = label("diagheading", "diagTitle")
        nav_column.addWidget(self.heading)
        self.nav: dict[str, QPushButton] = {}
        for name in PAGES:
            btn = button(f"diagNav_{name}", self._opener(name), "nav")
            btn.setCheckable(True)
            nav_column.addWidget(btn)
            self.nav[name] = btn
        nav_column.addStretch(1)
        self.leave = button("diagLeave", on_leave, "primary")
        nav_column.addWidget(self.leave)
        self.stack = QStackedWidget()
        for page in self.pages.values():
            self.stack.addWidget(page)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(nav)
        layout.addWidget(self.stack, 1)
        self.current: str | None = None
        self._open = False
        self._language: str | None = None
        self._look: theme.Look | None = None

    def show_view(self, view: VisitView, t: Texts) -> None:
        if theme.current() != self._look:  # high contrast: the scroll bar follows
            self._look = theme.current()
            self.setStyleSheet(_scroll_bar_sheet(self._look))
        if view.language != self._language:  # not on every view: a page keeps its scroll
            self._language = view.language
            self.heading.setText(t("diag.title"))
            for name, btn in self.nav.items():
                btn.setText(t(f"diag.nav.{name}"))
            self.leave.setText(t("diag.exit"))
            for page in self.pages.values():
                page.set_texts(t)
        if view.state is State.TECHNICIAN and not self._open:
            self._open = True
            self.show_page("devices")
        elif view.state is not State.TECHNICIAN and self._open:
            self._open = False
            if self.current is not None:
                self.pages[self.current].hidden()
            self.current = None

    def _opener(self, name: str) -> Callable[[], None]:
        return lambda: self.show_page(name)

    def show_page(self, name: str) -> None:
        if self.current is not None and self.current != name:
            self.pages[self.current].hidden()
        self.current = name
        for page_name, btn in self.nav.items():
            btn.setChecked(page_name == name)
        self.stack.setCurrentWidget(self.pages[name])
        self.pages[name].shown()
        if self._open and name != "devices":
            self.service.action("page", name=name)
