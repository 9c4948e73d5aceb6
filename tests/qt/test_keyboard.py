"""The feedback keyboard, driven by taps alone; every variant is saved in test-artifacts/input/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk.app import qt_app
from screens import theme
from screens.keyboard import PUNCTUATION, SYMBOLS, Mode, TextKeyboard
from screens.keypad import LARGE_KEY_PX
from screens.pinyin_words import WORDS, candidates
from tests.qt.test_keypad import SCREEN_AREA, assert_labels_fit, assert_laid_out, panel, save

# Texts these tests lean on; the translation files (kiosk/locales/*.ts) hold the same.
ZH = {
    "keyboard.mode.phrases": "常用语",
    "keyboard.mode.pinyin": "拼音",
    "keyboard.mode.letters": "英文字母",
    "keyboard.mode.symbols": "数字符号",
    "keyboard.clear": "清空",
    "keyboard.done": "完成",
    "keyboard.shift": "大写",
    "keyboard.backspace": "删除",
    "keyboard.space": "空格",
    "keyboard.placeholder": "请点选下方的常用语，或用键盘输入您的意见",
    "keyboard.count": "{n}/{limit} 字",
    "keyboard.pinyin_hint": "输入拼音，再点选要用的字词",
    "keyboard.no_match": "没有这个词：点左边保留字母，或改用常用语",
    "feedback.phrase.1": "服务态度很好",
    "feedback.phrase.2": "排队时间太长",
    "feedback.phrase.3": "办理速度很快",
    "feedback.phrase.4": "屏幕上的字太小",
    "feedback.phrase.5": "操作有点复杂",
    "feedback.phrase.6": "希望增加人工窗口",
    "feedback.phrase.7": "工作人员很耐心",
    "feedback.phrase.8": "谢谢！",
}
EN = {
    "keyboard.mode.phrases": "Phrases",
    "keyboard.mode.pinyin": "Pinyin",
    "keyboard.mode.letters": "ABC",
    "keyboard.mode.symbols": "123",
    "keyboard.clear": "Clear",
    "keyboard.done": "Done",
    "keyboard.shift": "Shift",
    "keyboard.backspace": "Delete",
    "keyboard.space": "Space",
    "keyboard.placeholder": "Tap a phrase below, or type your comments",
    "keyboard.count": "{n}/{limit}",
    "keyboard.pinyin_hint": "Type the pinyin, then tap the word",
    "keyboard.no_match": "Word not known: tap the letters to keep them",
    "feedback.phrase.1": "The staff were friendly",
    "feedback.phrase.2": "The wait was too long",
    "feedback.phrase.3": "It was quick",
    "feedback.phrase.4": "The text on screen is too small",
    "feedback.phrase.5": "It was hard to use",
    "feedback.phrase.6": "Please open more staffed windows",
    "feedback.phrase.7": "The staff were patient",
    "feedback.phrase.8": "Thank you!",
}


_windows: list[QWidget] = []  # pytest-qt holds widgets weakly: keep each panel alive


@pytest.fixture(autouse=True)
def _release_windows() -> Iterator[None]:
    yield
    _windows.clear()


def make(qtbot: QtBot, language: str = "zh_CN", **kw: int) -> TextKeyboard:
    qt_app()
    texts = ZH if language == "zh_CN" else EN
    kb = TextKeyboard(texts.__getitem__, language=language, **kw)
    root = panel(kb, "", full_width=True)
    _windows.append(root)
    qtbot.addWidget(root)
    root.show()
    qtbot.waitExposed(root)
    return kb


@pytest.fixture
def keyboard(qtbot: QtBot) -> Iterator[TextKeyboard]:
    yield make(qtbot)


def tap(qtbot: QtBot, kb: QWidget, *names: str) -> None:
    for name in names:
        btn = kb.findChild(QPushButton, name)
        assert btn is not None, f"no key {name}"
        assert btn.isVisible() and btn.isEnabled(), f"{name} cannot be tapped"
        qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)


def type_keys(qtbot: QtBot, kb: QWidget, chars: str) -> None:
    tap(qtbot, kb, *(f"keyboardKey_{ch}" for ch in chars))


def test_opens_on_the_phrases(keyboard: TextKeyboard) -> None:
    assert keyboard.mode() == "phrases"
    assert keyboard.mode_keys["phrases"].isChecked()
    assert keyboard.phrase_keys[0].isVisible() and not keyboard.char_keys["a"].isVisible()
    assert not keyboard.done_key.isEnabled()


def test_phrases_append_as_clauses(qtbot: QtBot, keyboard: TextKeyboard) -> None:
    seen: list[str] = []
    keyboard.changed.connect(seen.append)
    tap(qtbot, keyboard, "keyboardPhrase_1", "keyboardPhrase_2", "keyboardPhrase_8")
    assert keyboard.text() == "服务态度很好，排队时间太长，谢谢！"
    assert seen[-1] == keyboard.text() and len(seen) == 3
    assert keyboard.area.toPlainText() == keyboard.text()


def test_english_phrases_become_sentences(qtbot: QtBot) -> None:
    kb = make(qtbot, "en")
    tap(qtbot, kb, "keyboardPhrase_1", "keyboardPhrase_8", "keyboardPhrase_2")
    assert kb.text() == "The staff were friendly. Thank you! The wait was too long"


def test_a_phrase_that_does_not_fit_is_greyed_not_cut(qtbot: QtBot) -> None:
    kb = make(qtbot, max_length=17)
    tap(qtbot, kb, "keyboardPhrase_1")  # 6 characters; "，排队时间太长" needs 7 more
    tap(qtbot, kb, "keyboardPhrase_2")
    assert kb.text() == "服务态度很好，排队时间太长"
    assert not kb.phrase_keys[5].isEnabled()  # "，希望增加人工窗口" would overflow
    kb.phrase_keys[5].click()
    assert kb.text() == "服务态度很好，排队时间太长"
    assert kb.phrase_keys[7].isEnabled()  # "，谢谢！" still fits exactly
    tap(qtbot, kb, "keyboardPhrase_8")
    assert len(kb.text()) == 17 and not kb.phrase_keys[7].isEnabled()


def test_letters_with_one_shot_shift(qtbot: QtBot) -> None:
    kb = make(qtbot, "en")
    tap(qtbot, kb, "keyboardModeLetters", "keyboardShift")
    assert kb.char_keys["q"].text() == "Q" and kb.shift_key.isChecked()
    type_keys(qtbot, kb, "hi")
    assert kb.char_keys["q"].text() == "q" and not kb.shift_key.isChecked()
    tap(qtbot, kb, "keyboardSpace")
    type_keys(qtbot, kb, "all")
    tap(qtbot, kb, "keyboardPunct_3")  # "!" in English
    assert kb.text() == "Hi all!"
    tap(qtbot, kb, "keyboardBackspace", "keyboardBackspace")
    assert kb.text() == "Hi al"
    tap(qtbot, kb, "keyboardClear")
    assert kb.text() == "" and not kb.backspace_key.isEnabled()


def test_punctuation_follows_the_language(qtbot: QtBot) -> None:
    kb = make(qtbot)
    tap(qtbot, kb, "keyboardModeLetters", "keyboardPunct_0", "keyboardPunct_1")
    assert kb.text() == "，。"
    kb.retranslate(EN.__getitem__, "en")
    tap(qtbot, kb, "keyboardPunct_0", "keyboardPunct_1")
    assert kb.text() == "，。,."
    assert [b.text() for b in kb.punct_keys] == list(PUNCTUATION["en"])
    assert kb.phrase_keys[0].text() == "The staff were friendly"


def test_pinyin_spells_a_word(qtbot: QtBot, keyboard: TextKeyboard) -> None:
    tap(qtbot, keyboard, "keyboardModePinyin")
    assert keyboard.hint.text() == ZH["keyboard.pinyin_hint"]
    assert not keyboard.shift_key.isEnabled()  # pinyin has no capitals
    type_keys(qtbot, keyboard, "paidui")
    assert keyboard.text() == "" and keyboard.spelling() == "paidui"
    assert keyboard.composition_key.text() == "paidui"
    assert keyboard.candidate_keys[0].text() == "排队"
    tap(qtbot, keyboard, "keyboardCandidate_0")
    assert keyboard.text() == "排队" and keyboard.spelling() == ""
    # Given "hao", 好 comes first and 号 is offered too; the resident taps 号.
    type_keys(qtbot, keyboard, "hao")
    assert [b.text() for b in keyboard.candidate_keys if b.isVisible()] == ["好", "号"]
    tap(qtbot, keyboard, "keyboardCandidate_1")
    # Space takes the first word, as in every pinyin input method.
    type_keys(qtbot, keyboard, "man")
    tap(qtbot, keyboard, "keyboardSpace")
    assert keyboard.text() == "排队号慢"


def test_pinyin_backspace_and_kept_letters(qtbot: QtBot, keyboard: TextKeyboard) -> None:
    keyboard.set_text("好")
    tap(qtbot, keyboard, "keyboardModePinyin")
    type_keys(qtbot, keyboard, "xq")
    assert keyboard.hint.text() == ZH["keyboard.no_match"]
    assert not any(b.isVisible() for b in keyboard.candidate_keys)
    tap(qtbot, keyboard, "keyboardBackspace")
    assert keyboard.spelling() == "x" and keyboard.text() == "好"
    tap(qtbot, keyboard, "keyboardComposition")  # keep the letters as typed
    assert keyboard.text() == "好x" and keyboard.spelling() == ""


def test_leaving_pinyin_keeps_the_spelling(qtbot: QtBot, keyboard: TextKeyboard) -> None:
    tap(qtbot, keyboard, "keyboardModePinyin")
    type_keys(qtbot, keyboard, "xiexie")
    tap(qtbot, keyboard, "keyboardModePhrases")
    assert keyboard.text() == "谢谢"
    tap(qtbot, keyboard, "keyboardModePinyin")
    type_keys(qtbot, keyboard, "zz")
    tap(qtbot, keyboard, "keyboardPunct_1")  # 。 after letters that spell nothing
    assert keyboard.text() == "谢谢zz。"


def test_digits_and_symbols(qtbot: QtBot, keyboard: TextKeyboard) -> None:
    tap(qtbot, keyboard, "keyboardModeSymbols")
    assert not keyboard.char_keys["q"].isVisible() and keyboard.symbol_keys[0].isVisible()
    assert not keyboard.shift_key.isVisible() and keyboard.backspace_key.isVisible()
    tap(qtbot, keyboard, "keyboardKey_3", "keyboardKey_0", "keyboardSymbol_10")
    assert keyboard.text() == "30%"
    assert "".join(b.text() for b in keyboard.symbol_keys[10:]) == SYMBOLS["zh_CN"]


def test_an_ampersand_shows_on_its_key(qtbot: QtBot) -> None:
    kb = make(qtbot, "en")
    kb.set_mode("symbols")
    amp = next(b for b in kb.symbol_keys if "&" in b.text())
    assert amp.text() == "&&"  # Qt shows "&&" as "&"; a lone "&" would be an empty key
    tap(qtbot, kb, amp.objectName())
    assert kb.text() == "&"


def test_max_length_stops_every_key(qtbot: QtBot) -> None:
    kb = make(qtbot, max_length=5)
    tap(qtbot, kb, "keyboardModePinyin")
    type_keys(qtbot, kb, "hen")
    tap(qtbot, kb, "keyboardCandidate_0")
    type_keys(qtbot, kb, "hao")
    assert kb.spelling() == "hao"
    # 很 and three letters: one more letter still fits, a second would not.
    type_keys(qtbot, kb, "h")
    assert not kb.char_keys["a"].isEnabled()
    tap(qtbot, kb, "keyboardBackspace", "keyboardSpace")  # takes 好 for "hao"
    assert kb.text() == "很好"
    tap(qtbot, kb, "keyboardModeLetters")
    type_keys(qtbot, kb, "abc")
    assert kb.text() == "很好abc" and len(kb.text()) == 5
    assert not any(b.isEnabled() for b in kb.char_keys.values())
    assert not kb.space_key.isEnabled() and not kb.punct_keys[0].isEnabled()
    kb.set_text("x" * 50)
    assert kb.text() == "xxxxx"
    assert kb.count.text() == "5/5 字"


def test_done_completes_with_the_text(qtbot: QtBot, keyboard: TextKeyboard) -> None:
    done: list[str] = []
    keyboard.completed.connect(done.append)
    tap(qtbot, keyboard, "keyboardModeLetters", "keyboardSpace")
    assert not keyboard.done_key.isEnabled()  # only blanks: nothing to send
    tap(qtbot, keyboard, "keyboardModePinyin")
    type_keys(qtbot, keyboard, "manyi")
    tap(qtbot, keyboard, "keyboardDone")  # a spelling in progress is kept, not dropped
    assert done == [" 满意"]


def test_a_physical_keyboard_cannot_type(qtbot: QtBot, keyboard: TextKeyboard) -> None:
    widgets = [keyboard, *keyboard.findChildren(QWidget)]
    focusable = [w.objectName() for w in widgets if w.focusPolicy() != Qt.FocusPolicy.NoFocus]
    assert focusable == []
    assert not keyboard.area.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    qtbot.keyClicks(keyboard, "abc")
    qtbot.keyClicks(keyboard.area, "abc")
    qtbot.mouseClick(keyboard.area.viewport(), Qt.MouseButton.LeftButton)
    assert keyboard.text() == "" and keyboard.area.toPlainText() == ""


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("mode", ["phrases", "pinyin", "letters", "symbols"])
def test_every_key_is_a_large_touch_target(
    qtbot: QtBot, keyboard: TextKeyboard, large: bool, mode: Mode
) -> None:
    keyboard.set_large(large)
    keyboard.set_mode(mode)
    if mode == "pinyin":
        type_keys(qtbot, keyboard, "g")  # fill the candidate bar
    qtbot.wait(10)
    smallest = LARGE_KEY_PX if large else 60
    shown = [btn for btn in keyboard.touch_targets() if btn.isVisible()]
    assert len(shown) >= (14 if mode == "phrases" else 30)
    for btn in shown:
        assert btn.width() >= smallest and btn.height() >= smallest, btn.objectName()
    assert_laid_out(keyboard, shown)


def test_pinyin_table_is_plain_and_renderable() -> None:
    qt_app()
    metrics = QFontMetrics(QFont(theme.FONT_FAMILY))
    for spelling, word in WORDS:
        assert spelling.isascii() and spelling.isalpha() and spelling.islower(), spelling
        assert all(metrics.inFontUcs4(ord(ch)) for ch in word), word
        assert word in candidates(spelling, 50), spelling
    marks = "".join(PUNCTUATION.values()) + "".join(SYMBOLS.values())
    texts = "".join(ZH.values()) + "".join(EN.values()) + marks
    assert [ch for ch in texts if not ch.isspace() and not metrics.inFontUcs4(ord(ch))] == []


SHOTS: list[tuple[str, Mode, str]] = [
    ("phrases", "phrases", ""),
    ("pinyin", "pinyin", "g"),
    ("letters", "letters", ""),
    ("symbols", "symbols", ""),
    ("full", "phrases", ""),
]
LONG = {"zh_CN": "排队时间太长，希望增加人工窗口。", "en": "The wait was too long. "}


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("large", [False, True])
def test_renders(qtbot: QtBot, artifacts: Path, language: str, large: bool) -> None:
    for state, mode, spelling in SHOTS:
        kb = make(qtbot, language)
        kb.set_large(large)
        if state == "full":
            kb.set_text(LONG[language] * 20)
        elif state != "phrases":
            kb.set_text("服务态度很好，" if language == "zh_CN" else "The staff were friendly. ")
        kb.set_mode(mode)
        type_keys(qtbot, kb, spelling)
        if mode == "letters":
            tap(qtbot, kb, "keyboardShift")
        root = kb.window()
        size = "large" if large else "normal"
        save(root, artifacts / "input" / f"keyboard-{language}-{size}-{state}.png")
        assert kb.height() <= SCREEN_AREA[1]
        if state == "full":  # the newest words are in view, and every phrase is greyed
            bar = kb.area.verticalScrollBar()
            assert len(kb.text()) == 200 and bar.value() == bar.maximum()
            assert bar.maximum() > 0 or language == "en"  # 200 Latin letters fit in view
            assert not any(btn.isEnabled() for btn in kb.phrase_keys)
        assert_laid_out(kb, [btn for btn in kb.touch_targets() if btn.isVisible()])
        assert_labels_fit(kb.touch_targets())
