"""The way in: a hidden corner that counts taps, and the PIN pad it opens.

The PIN is checked on a worker (scrypt is slow on purpose); the pad only shows digits as dots,
says plainly when a PIN was wrong, and counts down a lockout.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.technician.access import PIN_DIGITS, EntryDecision
from kiosk.technician.mode import DiagnosticsService
from kiosk.texts import Texts
from screens.technician.localized_words import duration
from screens.translation import QtTexts
from screens.widgets import button, label

IDLE_CLOSE_MS = 60_000  # a pad left open by mistake goes away on its own


class CornerTaps(QWidget):
    """An invisible patch (the header's top-left corner): *taps* taps within *window* seconds
    call *on_taps*. Nothing on screen hints at it; residents' taps elsewhere never count."""

    def __init__(
        self, parent: QWidget, on_taps: Callable[[], None], taps: int = 5, window: float = 3.0
    ) -> None:
        super().__init__(parent)
        self.setObjectName("diagCorner")
        self._on_taps, self.taps, self.seconds = on_taps, taps, window
        self._times: list[float] = []
        self.setGeometry(0, 0, 160, 112)
        # Made after the window is shown: a child created then stays hidden (and takes no touch)
        # until it is shown itself.
        self.show()
        self.raise_()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        now = time.monotonic()
        self._times = [t for t in self._times if now - t <= self.seconds] + [now]
        if len(self._times) >= self.taps:
            self._times.clear()
            self._on_taps()
        event.accept()


class PinPad(QFrame):
    """A full-window overlay: large digits, the entry as dots, delete, cancel, enter."""

    def __init__(
        self,
        parent: QWidget,
        service: DiagnosticsService,
        on_granted: Callable[[], None],
    ) -> None:
        super().__init__(parent)
        self.setObjectName("PinOverlay")
        self.service, self._on_granted = service, on_granted
        self._t: Texts = QtTexts("zh_CN")
        self._pin = ""
        self._checking = False
        self._message_key: tuple[str, dict[str, object]] | None = None

        panel = QFrame()
        panel.setObjectName("PinPanel")
        panel.setFixedWidth(760)
        column = QVBoxLayout(panel)
        column.setContentsMargins(48, 24, 48, 28)
        column.setSpacing(12)
        self.title = label("main", "pinTitle")
        self.dots = label("title", "pinDots", wrap=False)  # dots never wrap
        self.dots.setFixedHeight(72)
        self.message = label("notice", "pinMessage")
        self.message.hide()
        column.addWidget(self.title)
        column.addWidget(self.dots)
        column.addWidget(self.message)
        grid = QGridLayout()
        grid.setSpacing(16)
        self.digits: list[QWidget] = []
        for i, digit in enumerate("123456789"):
            btn = button(f"pin{digit}", self._presser(digit), "pin")
            btn.setText(digit)
            grid.addWidget(btn, i // 3, i % 3)
            self.digits.append(btn)
        self.delete = button("pinDelete", self._delete, "pin")
        zero = button("pin0", lambda: self._press("0"), "pin")
        zero.setText("0")
        self.digits.append(zero)
        self.enter = button("pinEnter", self._submit, "primary")
        grid.addWidget(self.delete, 3, 0)
        grid.addWidget(zero, 3, 1)
        grid.addWidget(self.enter, 3, 2)
        column.addLayout(grid)
        self.cancel = button("pinCancel", self.close_pad)
        column.addWidget(self.cancel)

        outer = QHBoxLayout(self)
        # Below the header (and the simulator's bar floating over it).
        outer.setContentsMargins(0, 124, 0, 16)
        outer.addStretch(1)
        outer.addWidget(panel, 0, Qt.AlignmentFlag.AlignVCenter)
        outer.addStretch(1)

        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._show_lock)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_CLOSE_MS)
        self._idle.timeout.connect(self.close_pad)
        self.hide()

    # -- showing ------------------------------------------------------------------------------
    def open_pad(self, t: Texts) -> None:
        self._pin, self._checking = "", False
        self._message_key = None
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()
        self.set_texts(t)
        if not self.service.entry_open:
            self._set_message("diag.pin.closed")
        elif self.service.lock_remaining() > 0:
            self._show_lock()
        elif self.service.test_pin:
            self._set_message("diag.pin.test_pin")
        self._idle.start()
        self._refresh()

    def close_pad(self) -> None:
        self._pin = ""
        self._countdown.stop()
        self._idle.stop()
        self.hide()

    def set_texts(self, t: Texts) -> None:
        self._t = t
        self.title.setText(t("diag.pin.title"))
        self.delete.setText(t("diag.pin.delete"))
        self.enter.setText(t("diag.pin.enter"))
        self.cancel.setText(t("diag.pin.cancel"))
        if self._message_key is not None:
            key, values = self._message_key
            self.message.setText(t(key, **values))

    def _set_message(self, key: str | None, **values: object) -> None:
        self._message_key = None if key is None else (key, values)
        self.message.setVisible(key is not None)
        if key is not None:
            self.message.setText(self._t(key, **values))

    def _refresh(self) -> None:
        self.dots.setText("●" * len(self._pin) if self._pin else " ")
        locked = self.service.lock_remaining() > 0
        usable = self.service.entry_open and not locked and not self._checking
        for btn in self.digits:
            btn.setEnabled(usable and len(self._pin) < PIN_DIGITS[1])
        self.delete.setEnabled(usable and bool(self._pin))
        self.enter.setEnabled(usable and len(self._pin) >= PIN_DIGITS[0])

    def _show_lock(self) -> None:
        left = self.service.lock_remaining()
        if left <= 0:
            self._countdown.stop()
            self._set_message(None)
        else:
            self._set_message("diag.pin.locked", time=duration(left, self._t))
            if not self._countdown.isActive():
                self._countdown.start()
        self._refresh()

    # -- touches ------------------------------------------------------------------------------
    def _presser(self, digit: str) -> Callable[[], None]:
        return lambda: self._press(digit)

    def _press(self, digit: str) -> None:
        self._idle.start()
        if len(self._pin) < PIN_DIGITS[1]:
            self._pin += digit
        self._refresh()

    def _delete(self) -> None:
        self._idle.start()
        self._pin = self._pin[:-1]
        self._refresh()

    def _submit(self) -> None:
        if self._checking or not self._pin:
            return
        pin, self._pin = self._pin, ""
        self._checking = True
        self._set_message("diag.pin.checking")
        self._refresh()
        self.service.try_pin(pin, self._decided)

    def _decided(self, decision: EntryDecision) -> None:
        self._checking = False
        if not self.isVisible():  # cancelled while the PIN was being checked
            if decision.granted:
                self.service.left("cancelled")
            return
        if decision.granted:
            self.close_pad()
            self._on_granted()
            return
        if decision.reason == "locked":
            self._show_lock()
        elif decision.reason == "no_pins_configured":
            self._set_message("diag.pin.closed")
        else:
            self._set_message("diag.pin.wrong", n=decision.attempts_left)
        self._idle.start()
        self._refresh()
