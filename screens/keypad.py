"""A touch-only numeric keypad for phone numbers and codes, with large keys and a grouped display.

Why not Qt Virtual Keyboard: the PySide6-Addons wheel ships it (the ``qtvirtualkeyboard`` input
context, the zh_CN layout and the Pinyin engine with its dictionary built in) and it loads in a
widgets app, even offscreen. But in a widgets app its panel is a separate top-level Qt Quick window
(Tool | Frameless | StaysOnTop) with its own dark look, which in our offscreen test became the
focus window and hid itself again; it pops up only for a focused text field, which a physical
keyboard could then type into; it has a hide key and a language globe a resident can get lost
in; and its key size does not follow our elder mode. A kiosk must stay one full-screen window
with one calm look and keys we size ourselves, so input is built from our own widgets: this
keypad, and ``screens.keyboard.TextKeyboard`` for feedback text. Nothing here takes focus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from screens import theme


class Translate(Protocol):
    """``kiosk.texts.Texts`` or any ``key -> text`` callable."""

    def __call__(self, key: str, /) -> str: ...


# Touch targets: 60 px is the floor (>= 60 dp on any panel up to 160 dpi); elder mode uses the
# theme's PIN-pad size, the largest key that still lets a full keyboard fit a 1920 px panel.
NORMAL_KEY_PX = 72
LARGE_KEY_PX = theme.PIN_BUTTON_H
KEY_SPACING = 12
MOBILE = re.compile(r"1[3-9]\d{9}")


def is_mainland_mobile(value: str) -> bool:
    """A mainland China mobile number: 11 digits, ``1`` then ``3``-``9``."""
    return MOBILE.fullmatch(value) is not None


def group_digits(value: str, grouping: Sequence[int] = (3, 4, 4)) -> str:
    """``13800138000`` -> ``138 0013 8000``; digits past the grouping stay in one last group."""
    groups, rest = [], value
    for size in grouping:
        if not rest:
            break
        groups.append(rest[:size])
        rest = rest[size:]
    if rest:
        groups.append(rest)
    return " ".join(groups)


def key_sheet(root: str, large: bool, chip_px: int = 0) -> str:
    """The keys' look and exact size, set on the keypad or keyboard itself so it wins over the
    window's sheet (whose buttons are 110 px tall with wide padding: far too big for keys).

    Sizes live here, not in ``setFixedHeight``: a style sheet's ``min-height`` is applied again
    at every re-polish (showing, re-parenting) and would undo a size set in code.
    """
    k = theme.current()  # the look the window shows now: colours follow high contrast
    key = LARGE_KEY_PX if large else NORMAL_KEY_PX
    char_px = theme.MAIN_PX if large else theme.BODY_PX
    word_px = theme.BODY_PX if large else theme.SMALL_PX

    def box(height: int, pad: int, border: int, colour: str) -> str:
        # min/max-height and min-width measure the contents: take padding and border off.
        inner = height - 2 * border
        return (
            f"min-height: {inner}px; max-height: {inner}px;"
            f" min-width: {max(0, key - 2 * (pad + border))}px;"
            f" padding: 0px {pad}px; border: {border}px solid {colour};"
        )

    return f"""
    #{root} QPushButton {{
        {box(key, 8, 2, k.muted)} border-radius: 14px;
        font-size: {char_px}px; background: {k.surface}; color: {k.text};
    }}
    #{root} QPushButton:pressed {{ background: {k.pressed_bg}; }}
    #{root} QPushButton[variant="keyfn"] {{
        {box(key, 8, 2, k.border)}
        font-size: {word_px}px; background: {k.pressed_bg}; color: {k.primary};
    }}
    #{root} QPushButton[variant="keymode"] {{
        {box(key, 24, 2, k.border)}
        font-size: {word_px}px; background: {k.pressed_bg}; color: {k.primary};
    }}
    #{root} QPushButton[variant="keyfn"]:checked, #{root} QPushButton[variant="keymode"]:checked {{
        background: {k.primary}; color: {k.on_primary};
    }}
    #{root} QPushButton[variant="keyok"] {{
        {box(key, 12, 2, k.primary)}
        font-size: {char_px}px; background: {k.primary}; color: {k.on_primary};
    }}
    #{root} QPushButton[variant="keyok"]:pressed {{ background: {k.primary_pressed}; }}
    #{root} QPushButton[variant="chip"] {{
        {box(chip_px or key, 28, 3, k.border)} border-radius: 24px;
        font-size: {char_px}px; text-align: left; color: {k.primary};
    }}
    #{root} QPushButton:disabled {{
        background: {k.disabled_bg}; color: {k.disabled_text}; border-color: {k.muted};
    }}
    """


def key_button(name: str, on_click: Callable[[], None], variant: str = "key") -> QPushButton:
    """A key: never takes focus (so a stray physical keyboard has nothing to type into)."""
    btn = QPushButton()
    btn.setObjectName(name)
    btn.setProperty("variant", variant)
    btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    btn.setCursor(Qt.CursorShape.PointingHandCursor)
    btn.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    btn.clicked.connect(on_click)
    return btn


class NumericKeypad(QWidget):
    """Digits, delete, clear and OK under a display that groups the number for reading aloud.

    ``changed(value)`` on every edit; ``completed(value)`` when the resident taps OK, which is
    enabled only while the validator accepts the value.
    """

    changed = Signal(str)
    completed = Signal(str)

    def __init__(
        self,
        t: Translate,
        *,
        max_length: int = 11,
        validator: Callable[[str], bool] | None = None,
        grouping: Sequence[int] = (3, 4, 4),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("NumericKeypad")
        self.max_length, self.grouping = max_length, tuple(grouping)
        self._validator = validator or bool  # by default any number at all will do
        self._value = ""
        self._large: bool | None = None  # not sized yet
        self._look: theme.Look | None = None  # the look the sheet was made for

        self.display = QLabel()
        self.display.setObjectName("keypadDisplay")
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.display.setTextFormat(Qt.TextFormat.PlainText)
        self.display.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # A long code must not widen the keypad: the digits shrink to fit instead (_fit_display).
        self.display.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._display_px = theme.MAIN_PX
        # Shown only when the number is complete but wrong, so OK staying grey has a reason.
        self.message = QLabel()
        self.message.setObjectName("keypadMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # One line, no wrap: a wrapped label's height depends on its width, which a layout
        # learns too late, squeezing the keys below it. Keep the text short instead.
        self.message.setWordWrap(False)
        self.message.setProperty("role", "notice")
        # Its room is kept while hidden: keys must not jump under a finger when it appears.
        policy = self.message.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.message.setSizePolicy(policy)

        grid = QGridLayout()
        grid.setSpacing(KEY_SPACING)
        self.digit_keys: dict[str, QPushButton] = {}
        for i, digit in enumerate("1234567890"):
            btn = key_button(f"keypadKey_{digit}", partial(self._press, digit), "keydigit")
            btn.setText(digit)
            self.digit_keys[digit] = btn
            grid.addWidget(btn, *((3, 1) if digit == "0" else divmod(i, 3)))
        # Function keys in a column on the right, OK two keys tall, as on a bank's ATM: four
        # rows instead of five, so the elder size still fits under a title.
        self.delete_key = key_button("keypadDelete", self._delete, "keyfn")
        self.clear_key = key_button("keypadClear", self.clear, "keyfn")
        self.ok_key = key_button("keypadOk", self._ok, "keyok")
        grid.addWidget(self.delete_key, 0, 3)
        grid.addWidget(self.clear_key, 1, 3)
        grid.addWidget(self.ok_key, 2, 3, 2, 1)
        for col in range(4):
            grid.setColumnStretch(col, 1)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(KEY_SPACING + 4)
        column.addWidget(self.display)
        column.addWidget(self.message)
        column.addLayout(grid)
        self.retranslate(t)
        self.set_large(False)
        self._set("")

    # -- public ------------------------------------------------------------------------------
    def value(self) -> str:
        return self._value

    def set_value(self, value: str) -> None:
        digits = "".join(ch for ch in value if ch.isascii() and ch.isdigit())
        self._set(digits[: self.max_length])

    def clear(self) -> None:
        self._set("")

    def is_valid(self) -> bool:
        return bool(self._value) and bool(self._validator(self._value))

    def touch_targets(self) -> list[QPushButton]:
        return [*self.digit_keys.values(), self.clear_key, self.delete_key, self.ok_key]

    def is_large(self) -> bool:
        return bool(self._large)

    def set_large(self, large: bool) -> None:
        """Elder mode: 96 px keys and bigger digits."""
        k = theme.current()  # the look the window shows now
        if large == self._large and k == self._look:
            return  # screens call this on every update: re-polishing every key is not free
        # A new look (high contrast) needs a new sheet as much as a new size does.
        self._large, self._look = large, k
        key = LARGE_KEY_PX if large else NORMAL_KEY_PX
        digit_px = theme.PIN_PX if large else theme.MAIN_PX
        shown_px = theme.TITLE_PX if large else theme.MAIN_PX
        ok_px = 2 * key + KEY_SPACING - 4  # two rows tall, inside its 2 px border
        self.setStyleSheet(
            key_sheet("NumericKeypad", large)
            + f"""
            #NumericKeypad QPushButton[variant="keydigit"] {{ font-size: {digit_px}px; }}
            #NumericKeypad #keypadOk {{ min-height: {ok_px}px; max-height: {ok_px}px; }}
            #keypadDisplay {{
                background: {k.surface}; border-radius: 16px;
                border: 3px solid {k.rule}; padding: 0px 16px;
            }}
            """
        )
        self._display_px = shown_px
        # Elder mode keeps less air around the number: the larger keys need the height.
        self.display.setFixedHeight(shown_px + (24 if large else 48))
        self._fit_display()
        self.updateGeometry()

    def retranslate(self, t: Translate) -> None:
        self.clear_key.setText(t("keypad.clear"))
        self.delete_key.setText(t("keypad.delete"))
        self.ok_key.setText(t("keypad.ok"))
        self.message.setText(t("keypad.invalid"))

    def minimumSizeHint(self) -> QSize:
        # Columns wider than the keys are tall: room for "Delete" and a large "确定". A hint,
        # not setMinimumWidth, so an embedding screen's own fixed width still wins.
        key = LARGE_KEY_PX if self._large else NORMAL_KEY_PX
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), 4 * (key * 7 // 4) + 3 * KEY_SPACING), hint.height())

    def sizeHint(self) -> QSize:
        return super().sizeHint().expandedTo(self.minimumSizeHint())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_display()

    def _fit_display(self) -> None:
        """The largest digits (down to body size) that show the whole number on one line."""
        font = QFont(self.display.font())
        room = self.display.contentsRect().width()
        px = self._display_px
        while px > theme.BODY_PX:
            font.setPixelSize(px)
            if QFontMetrics(font).horizontalAdvance(self.display.text()) <= room:
                break
            px -= 2
        font.setPixelSize(px)
        self.display.setFont(font)

    # -- touches -----------------------------------------------------------------------------
    def _press(self, digit: str) -> None:
        if len(self._value) < self.max_length:
            self._set(self._value + digit)

    def _delete(self) -> None:
        self._set(self._value[:-1])

    def _ok(self) -> None:
        if self.is_valid():
            self.completed.emit(self._value)

    def _set(self, value: str) -> None:
        changed = value != self._value
        self._value = value
        self.display.setText(group_digits(value, self.grouping))
        self._fit_display()
        full = len(value) >= self.max_length
        for btn in self.digit_keys.values():
            btn.setEnabled(not full)
        self.delete_key.setEnabled(bool(value))
        self.clear_key.setEnabled(bool(value))
        self.ok_key.setEnabled(self.is_valid())
        self.message.setVisible(full and not self.is_valid())
        if changed:
            self.changed.emit(value)
