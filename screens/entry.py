"""The two typing steps, by touch only: a number on the keypad (a phone number, a code) and a
few words on the keyboard (feedback). Both hand the value to the session with ``Entered``; the
phone number is optional, so its step has a "skip"."""

from __future__ import annotations

from PySide6.QtCore import Qt

from kiosk.texts import Texts
from kiosk.visit.events import Entered
from kiosk.visit.view import VisitView
from screens.keyboard import TextKeyboard
from screens.keypad import NumericKeypad, is_mainland_mobile
from screens.page import Dispatch, Screen, row
from screens.translation import QtTexts
from screens.widgets import button, label

CODE_LENGTH = (4, 20)


def _is_code(value: str) -> bool:
    return CODE_LENGTH[0] <= len(value) <= CODE_LENGTH[1]


class KeypadScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "keypadTitle")
        self.hint = label("body", "keypadHint")
        t = QtTexts("zh_CN")
        self.phone = NumericKeypad(t, max_length=11, validator=is_mainland_mobile)
        self.code = NumericKeypad(t, max_length=CODE_LENGTH[1], validator=_is_code,
                                  grouping=(4, 4, 4, 4, 4))  # fmt: skip
        for pad in (self.phone, self.code):
            pad.setFixedWidth(720)
            pad.completed.connect(lambda value: self.dispatch(Entered(value)))
        self.skip = button("keypadSkip", lambda: self.dispatch(Entered("")), "quiet")
        self.column.setContentsMargins(120, 8, 120, 4)
        self.column.setSpacing(6)
        self.column.addWidget(self.title)
        self.column.addWidget(self.hint)
        # "Skip" beside the keys, not under them: elder mode's keys need the height.
        self.column.addLayout(row(self.phone, self.code, self.skip, spacing=48))
        self.column.addStretch(1)
        self._visit = -1
        self._here = False  # the page was on screen at the last view

    def show_view(self, view: VisitView, t: Texts) -> None:
        kind = view.keypad_kind or "phone"
        self.title.setText(t(f"keypad.{kind}.title"))
        self.hint.setText(t(f"keypad.{kind}.hint"))
        self.skip.setText(t("keypad.skip"))
        self.skip.setVisible(kind == "phone")  # a phone number is only ever asked as optional
        self.hint.setVisible(not view.elder)  # the title says it; the keys need the room
        for pad, pad_kind in ((self.phone, "phone"), (self.code, "code")):
            pad.retranslate(t)
            pad.set_large(view.elder)
            pad.setVisible(kind == pad_kind and view.state.value == "keypad")
            # What was typed belongs to this step of this visit only; coming back to the step
            # (返回上一步 from the confirmation) brings it back, as the visit kept it.
            here = view.state.value == "keypad"
            if view.visit != self._visit or not here or not self._here:
                pad.set_value(view.entered if here else "")
        self._visit, self._here = view.visit, view.state.value == "keypad"


class FeedbackScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "feedbackTitle")
        self.hint = label("body", "feedbackHint")
        self.keyboard = TextKeyboard(QtTexts("zh_CN"))
        self.keyboard.completed.connect(lambda text: self.dispatch(Entered(text)))
        self.column.setContentsMargins(60, 12, 60, 8)
        self.column.addWidget(self.title)
        self.column.addWidget(self.hint)
        self.column.addWidget(self.keyboard, 1, Qt.AlignmentFlag.AlignHCenter)
        self._language = ""
        self._visit = -1
        self._here = False  # the page was on screen at the last view

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("feedback.title"))
        self.hint.setText(t("feedback.hint"))
        # Elder mode's keyboard fills the page; its own placeholder says what to do.
        self.title.setVisible(not view.elder)
        self.hint.setVisible(not view.elder)
        if view.language != self._language:
            self.keyboard.retranslate(t, view.language)
            self._language = view.language
        self.keyboard.set_large(view.elder)
        # Typing in progress is the keyboard's own; on coming (back) to the step it shows what
        # the visit kept, so 返回上一步 from the confirmation loses nothing.
        here = view.state.value == "feedback"
        if view.visit != self._visit or not here or not self._here:
            self.keyboard.set_text(view.entered if here else "")
        self._visit, self._here = view.visit, here
