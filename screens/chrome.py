"""What frames every screen: the header (centre, clock, language), the footer (back, finish) and
the timeout warning with its one-tap "more time"."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from kiosk.texts import Texts
from kiosk.visit.first_look import FirstLook
from kiosk.visit.view import State, VisitView
from screens import theme
from screens.page import Dispatch
from screens.widgets import button, label

if TYPE_CHECKING:
    from kiosk.visit.events import Event

_BACK_STATES = {
    State.IDENTIFY, State.SCAN, State.CHOOSE, State.KEYPAD, State.FEEDBACK, State.CONFIRM,
}  # fmt: skip
_EXIT_STATES = _BACK_STATES | {State.CATALOGUE, State.RESULT, State.RATING}
_STAFF_STATES = _EXIT_STATES | {State.ATTRACT, State.PROCESSING, State.PROBLEM}


def intent(name: Literal["Back", "Cancel", "CallStaff", "Extend"]) -> Event:
    """One of the visit's argument-less events, imported when first tapped, not at first paint."""
    from kiosk.visit import events

    made: Event = getattr(events, name)()
    return made


def clock_text(now: datetime, t: Texts) -> str:
    """The header's clock as residents say it: 12月5日 星期六 14:03 / Sat 5 Dec 14:03."""
    weekday = t("header.weekdays").split(",")[now.weekday()]
    month_name = t("header.months").split(",")[now.month - 1]
    return t("header.clock", month=now.month, month_name=month_name, day=now.day,
             weekday=weekday, time=now.strftime("%H:%M"))  # fmt: skip


class Header(QFrame):
    def __init__(self, dispatch: Dispatch, centre: FirstLook) -> None:
        super().__init__()
        self.setObjectName("Header")
        self.setFixedHeight(112)
        self.centre = centre
        self._language = "zh_CN"
        self.title = label(
            "",
            "HeaderTitle",
            wrap=False,
            align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        )
        self._texts: Texts | None = None
        self.clock = QLabel()
        self.clock.setObjectName("Clock")
        # In a service's steps the clock gives way to where the resident is: 第 2 步 / 共 3 步.
        self.step = label("body", "stepIndicator", wrap=False)
        # Small and to the side: staff glance at it; a resident's visit never depends on it.
        self.sync = QLabel()
        self.sync.setObjectName("SyncStatus")
        self.language = button("languageButton", self._toggle_language, "quiet")
        # Elder mode and high contrast: on every screen, for this visit only.
        self.elder = button("elderButton", self._toggle_elder, "quiet")
        self.contrast = button("contrastButton", self._toggle_contrast, "quiet")
        for toggle in (self.elder, self.contrast):
            toggle.setCheckable(True)
            # Hidden at the goodbye, their room kept: nothing in the header moves under a finger.
            policy = toggle.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            toggle.setSizePolicy(policy)
        self._view: VisitView | None = None
        self._dispatch = dispatch
        layout = QHBoxLayout(self)
        layout.setContentsMargins(48, 8, 32, 8)
        layout.addWidget(self.title, 1)
        layout.addWidget(self.sync)
        layout.addSpacing(32)
        layout.addWidget(self.clock)
        layout.addWidget(self.step)
        layout.addSpacing(24)
        layout.addWidget(self.elder)
        layout.addWidget(self.contrast)
        layout.addWidget(self.language)
        timer = QTimer(self)
        timer.timeout.connect(self._update_clock)
        timer.start(1000)
        self._update_clock()

    # Each intent imports its event class when tapped: the first frame does without them.
    def _toggle_elder(self) -> None:
        from kiosk.visit.events import SetElderMode

        self._dispatch(SetElderMode(not (self._view and self._view.elder)))

    def _toggle_contrast(self) -> None:
        from kiosk.visit.events import SetContrast

        self._dispatch(SetContrast(not (self._view and self._view.contrast)))

    def _toggle_language(self) -> None:
        from kiosk.visit.events import SetLanguage

        self._dispatch(SetLanguage("en" if self._language == "zh_CN" else "zh_CN"))

    def _update_clock(self) -> None:
        if self._texts is not None:
            self.clock.setText(clock_text(datetime.now(), self._texts))

    def hasHeightForWidth(self) -> bool:
        # A fixed height: wrapped words inside must not ask the window for more.
        return False

    def show_view(self, view: VisitView, t: Texts) -> None:
        self._language = view.language
        self._view = view
        if t is not self._texts:
            self._texts = t
            self._update_clock()
        self.elder.setText(t("elder.toggle"))
        self.elder.setChecked(view.elder)
        self.contrast.setText(t("contrast.toggle"))
        self.contrast.setChecked(view.contrast)
        hidden = view.state in (State.TECHNICIAN, State.GOODBYE)
        self.elder.setVisible(not hidden)
        self.contrast.setVisible(not hidden)
        self.title.setText(
            self.centre.centre_zh if view.language == "zh_CN" else self.centre.centre_en
        )
        self.language.setText(t("language.switch"))
        in_steps = 0 < view.step <= view.steps and view.state not in (State.GOODBYE,)
        self.step.setText(t("step.of", step=view.step, steps=view.steps) if in_steps else "")
        self.step.setVisible(in_steps)
        self.clock.setVisible(not in_steps)
        self._show_sync(view, t)

    def _show_sync(self, view: VisitView, t: Texts) -> None:
        link = {"online": "online", "offline": "offline", "refused": "offline"}.get(view.sync_link)
        self.sync.setVisible(link is not None)
        if link is None:
            return
        text = t(f"sync.{link}")
        if view.sync_waiting:
            text += " · " + t("sync.waiting", n=view.sync_waiting)
        self.sync.setText("● " + text)
        if self.sync.property("link") != link:
            self.sync.setProperty("link", link)
            self.sync.style().unpolish(self.sync)
            self.sync.style().polish(self.sync)


class Footer(QWidget):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__()
        self.setFixedHeight(156)
        self.back = button("backButton", lambda: dispatch(intent("Back")))
        self.exit = button("exitButton", lambda: dispatch(intent("Cancel")))
        # On every screen a resident can reach: help is always one tap away.
        self.staff = button("callStaffButton", lambda: dispatch(intent("CallStaff")), "quiet")
        self.back.setMinimumWidth(360)
        self.exit.setMinimumWidth(360)
        layout = QHBoxLayout(self)
        self.side_margin(theme.NORMAL.footer_side_px)
        layout.addWidget(self.back)
        layout.addStretch(1)
        self.middle = QHBoxLayout()  # the voice controls join here once speech is up
        self.middle.setSpacing(16)
        self.middle.addWidget(self.staff)
        layout.addLayout(self.middle)
        layout.addStretch(1)
        layout.addWidget(self.exit)

    def hasHeightForWidth(self) -> bool:
        # A fixed height: wrapped words inside must not ask the window for more.
        return False

    def side_margin(self, px: int) -> None:
        """Elder mode's larger buttons take some of the air at the sides."""
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(px, 8, px, 16)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.back.setText(t("common.back"))
        self.exit.setText(t("common.exit"))
        self.staff.setText(t("staff.called") if view.staff_called else t("staff.call"))
        self.staff.setEnabled(not view.staff_called)
        # Keep the space even when hidden, so buttons never jump under a resident's finger.
        for btn, states in (
            (self.back, _BACK_STATES), (self.exit, _EXIT_STATES), (self.staff, _STAFF_STATES)
        ):  # fmt: skip
            policy = btn.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            btn.setSizePolicy(policy)
            btn.setVisible(view.state in states)


class TimeoutBanner(QFrame):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__()
        self.setObjectName("TimeoutBanner")
        self.setFixedHeight(156)  # takes the footer's place, so nothing else moves
        self.message = label("", "timeoutMessage")
        self.more = button("moreTimeButton", lambda: dispatch(intent("Extend")), "primary")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(120, 8, 120, 16)
        layout.addWidget(self.message, 1)
        layout.addSpacing(30)
        layout.addWidget(self.more)
        self.hide()

    def hasHeightForWidth(self) -> bool:
        # A fixed height: wrapped words inside must not ask the window for more.
        return False

    def show_view(self, view: VisitView, t: Texts) -> None:
        if view.warning_seconds is None:
            self.hide()
            return
        self.message.setText(t("timeout.warning", seconds=view.warning_seconds))
        self.more.setText(t("common.more_time"))
        self.show()
