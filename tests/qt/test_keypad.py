"""The numeric keypad, driven by taps alone; every variant is saved under test-artifacts/input/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.app import qt_app
from screens import theme
from screens.keypad import (
    LARGE_KEY_PX,
    NumericKeypad,
    group_digits,
    is_mainland_mobile,
)

# Texts these tests lean on; the translation files (kiosk/locales/*.ts) hold the same.
ZH = {
    "keypad.delete": "删除",
    "keypad.clear": "清空",
    "keypad.ok": "确定",
    "keypad.invalid": "号码不对，请检查",
}
EN = {
    "keypad.delete": "Delete",
    "keypad.clear": "Clear",
    "keypad.ok": "OK",
    "keypad.invalid": "Please check the number",
}
SCREEN_AREA = (1920, 1080 - 112 - 156)  # what a screen has between header and footer


def panel(inner: QWidget, title: str, *, full_width: bool = False) -> QWidget:
    """A 1920x1080 stand-in for the kiosk window: header, a screen with a title, footer."""
    root = QWidget()
    root.setObjectName("KioskRoot")
    root.setStyleSheet(theme.style_sheet())
    header, footer = QFrame(), QFrame()
    header.setObjectName("Header")
    header.setFixedHeight(112)
    footer.setFixedHeight(156)
    screen = QWidget()
    column = QVBoxLayout(screen)
    column.setContentsMargins(120, 24, 120, 16)
    column.setSpacing(16)
    if title:
        heading = QLabel(title)
        heading.setProperty("role", "main")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(heading)
    column.addStretch(1)
    if full_width:
        column.addWidget(inner)
    else:
        column.addWidget(inner, 0, Qt.AlignmentFlag.AlignHCenter)
    column.addStretch(1)
    outer = QVBoxLayout(root)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.setSpacing(0)
    outer.addWidget(header)
    outer.addWidget(screen, 1)
    outer.addWidget(footer)
    root.resize(1920, 1080)
    return root


def save(root: QWidget, path: Path) -> None:
    # Re-polishing on show posts a layout request; let it run before taking the picture.
    QApplication.processEvents()
    image = root.grab()
    assert (image.width(), image.height()) == (1920, 1080), "the layout outgrew the panel"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(path))


@pytest.fixture
def keypad(qtbot: QtBot) -> Iterator[NumericKeypad]:
    qt_app()
    pad = NumericKeypad(ZH.__getitem__, validator=is_mainland_mobile)
    root = panel(pad, "请输入手机号码")
    qtbot.addWidget(root)
    root.show()
    qtbot.waitExposed(root)
    yield pad


def tap(qtbot: QtBot, pad: QWidget, name: str) -> None:
    btn = pad.findChild(QPushButton, name)
    assert btn is not None, f"no key {name}"
    qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)


def type_digits(qtbot: QtBot, pad: QWidget, digits: str) -> None:
    for digit in digits:
        tap(qtbot, pad, f"keypadKey_{digit}")


def test_taps_build_a_grouped_number(qtbot: QtBot, keypad: NumericKeypad) -> None:
    seen: list[str] = []
    keypad.changed.connect(seen.append)
    type_digits(qtbot, keypad, "1380013")
    assert keypad.value() == "1380013"
    assert keypad.display.text() == "138 0013"
    assert seen == ["1", "13", "138", "1380", "13800", "138001", "1380013"]


def test_delete_and_clear(qtbot: QtBot, keypad: NumericKeypad) -> None:
    assert not keypad.delete_key.isEnabled() and not keypad.clear_key.isEnabled()
    type_digits(qtbot, keypad, "1390")
    tap(qtbot, keypad, "keypadDelete")
    assert keypad.value() == "139"
    tap(qtbot, keypad, "keypadClear")
    assert keypad.value() == "" and keypad.display.text() == ""
    assert not keypad.delete_key.isEnabled()


def test_ok_waits_for_a_valid_number(qtbot: QtBot, keypad: NumericKeypad) -> None:
    done: list[str] = []
    keypad.completed.connect(done.append)
    type_digits(qtbot, keypad, "1280013800")
    assert not keypad.ok_key.isEnabled() and keypad.message.isHidden()
    type_digits(qtbot, keypad, "0")
    # Given 11 digits that are no mobile number, OK stays grey and the resident is told why.
    assert not keypad.ok_key.isEnabled() and keypad.message.isVisible()
    tap(qtbot, keypad, "keypadOk")
    assert done == []
    keypad.clear()
    type_digits(qtbot, keypad, "13800138000")
    assert keypad.ok_key.isEnabled() and keypad.message.isHidden()
    tap(qtbot, keypad, "keypadOk")
    assert done == ["13800138000"]


def test_message_keeps_its_room_so_keys_do_not_move(qtbot: QtBot, keypad: NumericKeypad) -> None:
    before = keypad.delete_key.mapTo(keypad.window(), keypad.delete_key.rect().topLeft())
    type_digits(qtbot, keypad, "12800138000")
    assert keypad.message.isVisible()
    after = keypad.delete_key.mapTo(keypad.window(), keypad.delete_key.rect().topLeft())
    assert before == after


def test_max_length_stops_the_digits(qtbot: QtBot, keypad: NumericKeypad) -> None:
    type_digits(qtbot, keypad, "13800138000")
    assert all(not btn.isEnabled() for btn in keypad.digit_keys.values())
    keypad.digit_keys["5"].click()  # even a tap that gets through changes nothing
    assert keypad.value() == "13800138000"
    keypad.set_value("+86 139-0000-11112")
    assert keypad.value() == "86139000011"


def test_a_physical_keyboard_cannot_type(qtbot: QtBot, keypad: NumericKeypad) -> None:
    widgets = [keypad, *keypad.findChildren(QWidget)]
    assert all(w.focusPolicy() == Qt.FocusPolicy.NoFocus for w in widgets)
    qtbot.keyClicks(keypad, "138")
    qtbot.keyClicks(keypad.display, "138")
    assert keypad.value() == ""


@pytest.mark.parametrize("large", [False, True])
def test_every_key_is_a_large_touch_target(
    qtbot: QtBot, keypad: NumericKeypad, large: bool
) -> None:
    keypad.set_large(large)
    qtbot.wait(10)
    smallest = LARGE_KEY_PX if large else 60
    for btn in keypad.touch_targets():
        assert btn.width() >= smallest and btn.height() >= smallest, btn.objectName()
    assert keypad.is_large() is large


@pytest.mark.parametrize("large", [False, True])
def test_a_long_code_shrinks_to_fit(qtbot: QtBot, artifacts: Path, large: bool) -> None:
    """Given a 20-digit code in a keypad a screen fixed at 720 px, the digits get smaller
    (never below body size) rather than being cut off or widening the keypad."""
    qt_app()
    pad = NumericKeypad(ZH.__getitem__, max_length=20, grouping=(4, 4, 4, 4, 4))
    pad.setFixedWidth(720)
    pad.set_large(large)
    pad.set_value("12345678901234567890")
    root = panel(pad, "请输入凭条上的号码")
    qtbot.addWidget(root)
    root.show()
    qtbot.waitExposed(root)
    save(root, artifacts / "input" / f"keypad-zh-{'large' if large else 'normal'}-code.png")
    shown = pad.display
    assert shown.text() == "1234 5678 9012 3456 7890" and pad.width() == 720
    assert shown.fontMetrics().horizontalAdvance(shown.text()) <= shown.contentsRect().width()
    assert shown.font().pixelSize() >= theme.BODY_PX
    pad.set_value("1380")  # a short value gets the full size back
    assert shown.font().pixelSize() == (theme.TITLE_PX if large else theme.MAIN_PX)


def test_retranslate(keypad: NumericKeypad) -> None:
    keypad.retranslate(EN.__getitem__)
    assert keypad.delete_key.text() == "Delete" and keypad.ok_key.text() == "OK"


@pytest.mark.parametrize(
    ("value", "grouping", "shown"),
    [
        ("", (3, 4, 4), ""),
        ("138", (3, 4, 4), "138"),
        ("13800", (3, 4, 4), "138 00"),
        ("13800138000", (3, 4, 4), "138 0013 8000"),
        ("1234567", (3,), "123 4567"),
        ("123456", (), "123456"),
    ],
)
def test_group_digits(value: str, grouping: tuple[int, ...], shown: str) -> None:
    assert group_digits(value, grouping) == shown


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("13800138000", True),
        ("19912345678", True),
        ("12800138000", False),  # no mobile prefix starts 12
        ("1380013800", False),
        ("138001380000", False),
        ("23800138000", False),
        ("１３８００１３８０００", False),  # full-width digits never come from our keys
    ],
)
def test_mainland_mobile(value: str, ok: bool) -> None:
    assert is_mainland_mobile(value) is ok


@pytest.mark.parametrize(("lang", "texts"), [("zh", ZH), ("en", EN)])
@pytest.mark.parametrize("large", [False, True])
def test_renders(
    qtbot: QtBot, artifacts: Path, lang: str, texts: dict[str, str], large: bool
) -> None:
    qt_app()
    shots: list[tuple[str, Callable[[NumericKeypad], None]]] = [
        ("typing", lambda pad: pad.set_value("1380013")),
        ("invalid", lambda pad: pad.set_value("12800138000")),
        ("valid", lambda pad: pad.set_value("13800138000")),
    ]
    for state, arrange in shots:
        pad = NumericKeypad(texts.__getitem__, validator=is_mainland_mobile)
        pad.set_large(large)
        arrange(pad)
        title = "请输入手机号码" if lang == "zh" else "Please enter your mobile number"
        root = panel(pad, title)
        qtbot.addWidget(root)
        root.show()
        qtbot.waitExposed(root)
        size = "large" if large else "normal"
        save(root, artifacts / "input" / f"keypad-{lang}-{size}-{state}.png")
        assert pad.height() <= SCREEN_AREA[1]
        assert_laid_out(pad, pad.touch_targets())
        assert_labels_fit(pad.touch_targets())


PADDING = {"chip": 28 + 3, "keymode": 24 + 2, "keyok": 12 + 2}  # per side, with the border


def assert_labels_fit(keys: list[QPushButton]) -> None:
    """Every label fits inside its key's padding: a long translation must not be clipped."""
    for btn in keys:
        if not btn.isVisible():
            continue
        room = btn.width() - 2 * PADDING.get(str(btn.property("variant")), 8 + 2)
        text = btn.text().replace("&&", "&")
        assert btn.fontMetrics().horizontalAdvance(text) <= room, f"{text!r} is clipped"


def assert_laid_out(owner: QWidget, keys: list[QPushButton]) -> None:
    """No key squeezed, overlapping another or hanging out of its owner: a layout that got less
    room than it needs clips keys without any error."""
    boxes = [
        (btn.objectName(), btn.geometry().translated(btn.parentWidget().mapTo(owner, QPoint())))
        for btn in keys
        if btn.isVisible()
    ]
    for name, box in boxes:
        assert owner.rect().contains(box), f"{name} is cut off"
    for i, (name, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1 :]:
            # Keys have gaps between them: touching counts as squeezed.
            assert not box.adjusted(-2, -2, 2, 2).intersects(other_box), f"{name} meets {other}"


def test_keys_follow_the_look_as_well_as_the_size(qtbot: QtBot) -> None:
    """Switching to high contrast at the same size gives the keys the contrast colours."""
    from screens.keyboard import TextKeyboard

    pad, board = NumericKeypad(ZH.__getitem__), TextKeyboard(lambda key: ZH.get(key, key))
    qtbot.addWidget(pad)
    qtbot.addWidget(board)
    try:
        theme.use(theme.HIGH_CONTRAST)
        pad.set_large(False)
        board.set_large(False)
        assert theme.HIGH_CONTRAST.primary in pad.styleSheet()
        assert theme.HIGH_CONTRAST.primary in board.styleSheet()
    finally:
        theme.use(theme.NORMAL)
    pad.set_large(False)
    assert theme.HIGH_CONTRAST.primary not in pad.styleSheet()
