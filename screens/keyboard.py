"""A touch-only keyboard for a resident's feedback: ready-made phrases first, then keys.

Most residents are Chinese-speaking and elderly, and spelling Chinese in pinyin on a glass
keyboard is hard work, so the first page is eight large common phrases (tap one to add it). The
other pages are keys: in pinyin mode QWERTY letters spell a word from ``screens.pinyin_words`` (a
small feedback vocabulary, not a full input method) and a candidate bar offers it; in ABC mode
letters are typed as they are, with a one-shot shift; the 123 page has digits and symbols.
Punctuation follows the language: full-width ，。？！ for Chinese, ASCII for English. Why this is
built from widgets rather than Qt Virtual Keyboard is in ``screens.keypad``'s docstring.
Nothing here takes focus.

At elder size it is 748 px tall: it fits the 772 px a screen has between header and footer.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from screens import theme
from screens.keypad import (
    KEY_SPACING,
    LARGE_KEY_PX,
    NORMAL_KEY_PX,
    Translate,
    key_button,
    key_sheet,
)
from screens.phrase_chip import PhraseChip, shown
from screens.pinyin_words import candidates

Mode = Literal["phrases", "pinyin", "letters", "symbols"]
MODES: tuple[Mode, ...] = ("phrases", "pinyin", "letters", "symbols")
PHRASES = 8
CANDIDATES = 6
MAX_SPELLING = 16  # the longest spelling in the table is 14 letters
LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
ROW_START = (0, 1, 3)  # in half-key columns: the rows are offset as on a real keyboard
# Per language: six marks (four at the bottom left, one beside the letter M, one beside space),
# then the 123 page's two rows of ten and eight symbols.
PUNCTUATION = {"zh_CN": "，。？！、：", "en": ",.?!'-"}
SYMBOLS = {"zh_CN": "；（）“”《》…—～%@#*+=/￥", "en": ';:()"/@&%$#*+=~[]…'}
SENTENCE_ENDS = "，。？！、：；,.?!;: "
# A held backspace repeats only after a deliberate pause: a slow tap must never eat a sentence.
REPEAT_DELAY_MS = 800


def half_key_grid() -> tuple[QWidget, QGridLayout]:
    holder = QWidget()
    grid = QGridLayout(holder)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setSpacing(KEY_SPACING)
    for col in range(20):
        grid.setColumnStretch(col, 1)
    return holder, grid


class TextKeyboard(QWidget):
    """Phrase chips, pinyin/ABC/123 keys and the text so far, up to *max_length* characters.

    ``changed(text)`` on every edit; ``completed(text)`` when the resident taps Done.
    """

    changed = Signal(str)
    completed = Signal(str)

    def __init__(
        self,
        t: Translate,
        *,
        language: str = "zh_CN",
        max_length: int = 200,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("TextKeyboard")
        self.max_length = max_length
        self.language = language if language in PUNCTUATION else "zh_CN"
        self._text, self._spelling = "", ""
        self._mode: Mode = "phrases"
        self._shift = False
        self._large: bool | None = None  # not sized yet
        self._look: theme.Look | None = None  # the look the sheet was made for

        self.area = QPlainTextEdit()
        self.area.setObjectName("keyboardText")
        self.area.setReadOnly(True)
        # Display only: no focus, no selection, no input method, so no physical keyboard (or a
        # system on-screen keyboard) can ever type here.
        self.area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.area.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.area.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.area.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.area.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        self.done_key = key_button("keyboardDone", self._done, "keyok")
        self.clear_key = key_button("keyboardClear", self.clear, "keyfn")
        actions = QVBoxLayout()
        actions.setSpacing(KEY_SPACING)
        actions.addWidget(self.done_key)
        actions.addWidget(self.clear_key)
        top = QHBoxLayout()
        top.setSpacing(KEY_SPACING + 4)
        top.addWidget(self.area, 1)
        top.addLayout(actions)

        self.mode_keys = {
            mode: key_button(f"keyboardMode{mode.title()}", partial(self.set_mode, mode), "keymode")
            for mode in MODES
        }
        self.count = QLabel()
        self.count.setObjectName("keyboardCount")
        self.count.setAlignment(Qt.AlignmentFlag.AlignCenter)
        tabs = QVBoxLayout()
        tabs.setSpacing(KEY_SPACING)
        for btn in self.mode_keys.values():
            btn.setCheckable(True)
            tabs.addWidget(btn)
        tabs.addStretch(1)
        tabs.addWidget(self.count)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._phrase_page())
        self.pages.addWidget(self._key_page())
        body = QHBoxLayout()
        body.setSpacing(KEY_SPACING + 4)
        body.addLayout(tabs)
        body.addWidget(self.pages, 1)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(KEY_SPACING + 4)
        column.addLayout(top)
        column.addLayout(body)

        self.retranslate(t)
        self.set_large(False)
        self.set_mode("phrases")

    # -- building ----------------------------------------------------------------------------
    def _phrase_page(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(KEY_SPACING + 4)
        self.phrase_keys: list[PhraseChip] = []
        for i in range(PHRASES):
            chip = PhraseChip(f"keyboardPhrase_{i + 1}", partial(self._phrase, i))
            grid.addWidget(chip, i // 2, i % 2)
            self.phrase_keys.append(chip)
        # Two equal columns: a long phrase wraps within its half instead of taking more.
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        return page

    def _key_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(KEY_SPACING)
        column.addWidget(self._candidate_bar())

        # Letters and the 123 page are two grids in a stack (a grid cell holding two widgets
        # loses its row spacing); the bottom row with space and backspace is shared, so
        # backspace never moves. Every grid has 20 half-key columns, so offset rows and wide
        # keys line up as on a real keyboard.
        self.char_keys: dict[str, QPushButton] = {}
        self.symbol_keys: list[QPushButton] = []
        self.punct_keys = [
            key_button(f"keyboardPunct_{i}", partial(self._punct, i)) for i in range(6)
        ]
        self.shift_key = key_button("keyboardShift", self._toggle_shift, "keyfn")
        self.shift_key.setCheckable(True)
        letters, letter_grid = half_key_grid()
        for r, (chars, start) in enumerate(zip(LETTER_ROWS, ROW_START, strict=True)):
            for i, ch in enumerate(chars):
                self.char_keys[ch] = key_button(f"keyboardKey_{ch}", partial(self._char, ch))
                letter_grid.addWidget(self.char_keys[ch], r, start + 2 * i, 1, 2)
        letter_grid.addWidget(self.shift_key, 2, 0, 1, 3)
        letter_grid.addWidget(self.punct_keys[4], 2, 17, 1, 3)
        symbols, symbol_grid = half_key_grid()
        for i in range(28):
            name = f"keyboardKey_{(i + 1) % 10}" if i < 10 else f"keyboardSymbol_{i - 10}"
            btn = key_button(name, partial(self._symbol, i))
            row, col = (i // 10, 2 * (i % 10)) if i < 20 else (2, 3 + 2 * (i - 20))
            symbol_grid.addWidget(btn, row, col, 1, 3 if i == 27 else 2)
            self.symbol_keys.append(btn)
        self.key_pages = QStackedWidget()
        self.key_pages.addWidget(letters)
        self.key_pages.addWidget(symbols)
        column.addWidget(self.key_pages)

        bottom, bottom_grid = half_key_grid()
        self.space_key = key_button("keyboardSpace", self._space, "keyfn")
        self.backspace_key = key_button("keyboardBackspace", self._backspace, "keyfn")
        self.backspace_key.setAutoRepeat(True)
        self.backspace_key.setAutoRepeatDelay(REPEAT_DELAY_MS)
        for i in range(4):
            bottom_grid.addWidget(self.punct_keys[i], 0, 2 * i, 1, 2)
        bottom_grid.addWidget(self.space_key, 0, 8, 1, 6)
        bottom_grid.addWidget(self.punct_keys[5], 0, 14, 1, 2)
        bottom_grid.addWidget(self.backspace_key, 0, 16, 1, 4)
        column.addWidget(bottom)
        return page

    def _candidate_bar(self) -> QWidget:
        self.candidate_bar = QWidget()
        self.candidate_bar.setObjectName("keyboardCandidates")
        policy = self.candidate_bar.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # ABC and 123: the keys stay where they were
        self.candidate_bar.setSizePolicy(policy)
        row = QHBoxLayout(self.candidate_bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(KEY_SPACING)
        self.composition_key = key_button("keyboardComposition", self._keep_letters, "keyfn")
        self.candidate_keys = [
            key_button(f"keyboardCandidate_{i}", partial(self._choose, i))
            for i in range(CANDIDATES)
        ]
        # The first word is what space (or leaving the page) takes: it is outlined as such.
        self.candidate_keys[0].setProperty("first", True)
        self.hint = QLabel()
        self.hint.setObjectName("keyboardHint")
        for btn in (self.composition_key, *self.candidate_keys):
            btn.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            row.addWidget(btn)
        row.addWidget(self.hint)
        row.addStretch(1)
        return self.candidate_bar

    # -- public ------------------------------------------------------------------------------
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._spelling = ""
        self._set(text[: self.max_length])

    def clear(self) -> None:
        self._spelling = ""
        self._set("")

    def spelling(self) -> str:
        """Pinyin letters typed but not yet turned into a word."""
        return self._spelling

    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        self._finish_spelling()
        self._mode = mode
        self._shift = False
        for each, btn in self.mode_keys.items():
            btn.setChecked(each == mode)
        self.pages.setCurrentIndex(0 if mode == "phrases" else 1)
        self.key_pages.setCurrentIndex(1 if mode == "symbols" else 0)
        self._refresh()

    def touch_targets(self) -> list[QPushButton]:
        """Every touch target, for tests and for whoever measures them."""
        return [
            *self.mode_keys.values(),
            self.clear_key,
            self.done_key,
            *self.phrase_keys,
            self.composition_key,
            *self.candidate_keys,
            *self.char_keys.values(),
            *self.symbol_keys,
            self.shift_key,
            self.backspace_key,
            *self.punct_keys,
            self.space_key,
        ]

    def is_large(self) -> bool:
        return bool(self._large)

    def set_large(self, large: bool) -> None:
        """Elder mode: 96 px keys, 44 px letters and text."""
        k = theme.current()  # the look the window shows now
        if large == self._large and k == self._look:
            return  # screens call this on every update: re-polishing every key is not free
        # A new look (high contrast) needs a new sheet as much as a new size does.
        self._large, self._look = large, k
        key = LARGE_KEY_PX if large else NORMAL_KEY_PX
        text_px = theme.MAIN_PX if large else theme.BODY_PX
        # The phrase page is as tall as the key page (candidate bar and four rows of keys).
        phrase_px = (key * 5 + KEY_SPACING * 4 - (KEY_SPACING + 4) * 3) // 4
        self.setStyleSheet(
            key_sheet("TextKeyboard", large, chip_px=phrase_px)
            + f"""
            #keyboardText {{
                font-size: {text_px}px; background: {k.surface}; color: {k.text};
                border: 3px solid {k.rule}; border-radius: 16px; padding: 4px 12px;
            }}
            #keyboardCount, #keyboardHint {{
                font-size: {theme.BODY_PX if large else theme.SMALL_PX}px; color: {k.muted};
            }}
            #keyboardCandidates QPushButton {{ padding: 0px 20px; }}
            #TextKeyboard QPushButton[first="true"] {{
                border-color: {k.primary}; color: {k.primary}; background: {k.pressed_bg};
            }}
            """
        )
        self.candidate_bar.setFixedHeight(key)
        self.area.setFixedHeight(2 * key + KEY_SPACING)  # beside Done and Clear

    def retranslate(self, t: Translate, language: str | None = None) -> None:
        self._t = t
        if language in PUNCTUATION:
            self.language = language
        for mode, btn in self.mode_keys.items():
            btn.setText(t(f"keyboard.mode.{mode}"))
        self.clear_key.setText(t("keyboard.clear"))
        self.done_key.setText(t("keyboard.done"))
        self.shift_key.setText(t("keyboard.shift"))
        self.backspace_key.setText(t("keyboard.backspace"))
        self.space_key.setText(t("keyboard.space"))
        self.area.setPlaceholderText(t("keyboard.placeholder"))
        self._phrases = [t(f"feedback.phrase.{i + 1}") for i in range(PHRASES)]
        self._symbols = "1234567890" + SYMBOLS[self.language]
        for chip, phrase in zip(self.phrase_keys, self._phrases, strict=True):
            chip.set_phrase(phrase)
        for btn, mark in zip(self.punct_keys, PUNCTUATION[self.language], strict=True):
            btn.setText(shown(mark))
        for btn, mark in zip(self.symbol_keys, self._symbols, strict=True):
            btn.setText(shown(mark))
        self._refresh()

    # -- touches -----------------------------------------------------------------------------
    def _phrase(self, index: int) -> None:
        self._finish_spelling()
        self._insert(self._joined(self._phrases[index]))

    def _char(self, ch: str) -> None:
        if self._mode == "pinyin":
            # The letters themselves always fit, so finishing a spelling never loses it.
            if self._fits(self._spelling + ch) and len(self._spelling) < MAX_SPELLING:
                self._spelling += ch
                self._refresh()
            return
        if self._shift:
            ch, self._shift = ch.upper(), False
        self._insert(ch)

    def _symbol(self, index: int) -> None:
        self._insert(self._symbols[index])

    def _punct(self, index: int) -> None:
        self._finish_spelling()
        self._insert(PUNCTUATION[self.language][index])

    def _space(self) -> None:
        if self._spelling:  # as in every pinyin input method: space takes the first word
            self._finish_spelling()
        else:
            self._insert(" ")

    def _backspace(self) -> None:
        if self._spelling:
            self._spelling = self._spelling[:-1]
            self._refresh()
        else:
            self._set(self._text[:-1])

    def _toggle_shift(self) -> None:
        self._shift = not self._shift
        self._refresh()

    def _choose(self, index: int) -> None:
        words = candidates(self._spelling, CANDIDATES)
        if index < len(words):
            self._spelling = ""
            self._insert(words[index])

    def _keep_letters(self) -> None:
        letters, self._spelling = self._spelling, ""
        self._insert(letters)

    def _done(self) -> None:
        self._finish_spelling()
        if self._text.strip():
            self.completed.emit(self._text)

    # -- state -------------------------------------------------------------------------------
    def _finish_spelling(self) -> None:
        """Leaving a spelling half-done keeps it: the first word if there is one, else letters."""
        if not self._spelling:
            return
        words = candidates(self._spelling, 1)
        letters, self._spelling = self._spelling, ""
        self._insert(words[0] if words and self._fits(words[0]) else letters)

    def _joined(self, phrase: str) -> str:
        """What to add so a phrase reads as a new clause after the text already there."""
        if not self._text:
            return phrase
        if self.language == "zh_CN":
            return phrase if self._text[-1] in SENTENCE_ENDS else "，" + phrase
        if self._text[-1] == " ":
            return phrase
        return (" " if self._text[-1] in SENTENCE_ENDS else ". ") + phrase

    def _fits(self, addition: str) -> bool:
        return len(self._text) + len(addition) <= self.max_length

    def _insert(self, addition: str) -> None:
        if self._fits(addition):  # never half a phrase: either it all fits or nothing changes
            self._set(self._text + addition)
        else:
            self._refresh()

    def _set(self, text: str) -> None:
        changed = text != self._text
        self._text = text
        if self.area.toPlainText() != text:
            self.area.setPlainText(text)
            bar = self.area.verticalScrollBar()
            bar.setValue(bar.maximum())  # the newest words are the ones to check
        self._refresh()
        if changed:
            self.changed.emit(text)

    def _refresh(self) -> None:
        room = self.max_length - len(self._text) - len(self._spelling)
        self.count.setText(
            self._t("keyboard.count").format(n=len(self._text), limit=self.max_length)
        )
        upper = self._shift and self._mode == "letters"
        for ch, btn in self.char_keys.items():
            btn.setText(ch.upper() if upper else ch)
        for btn in (*self.char_keys.values(), *self.symbol_keys, *self.punct_keys):
            btn.setEnabled(room > 0)
        self.space_key.setEnabled(room > 0 or bool(self._spelling))  # space takes a word
        self.shift_key.setEnabled(self._mode == "letters")
        self.shift_key.setChecked(upper)
        self.backspace_key.setEnabled(bool(self._text or self._spelling))
        self.clear_key.setEnabled(bool(self._text or self._spelling))
        self.done_key.setEnabled(bool(self._text.strip() or self._spelling))
        for btn, phrase in zip(self.phrase_keys, self._phrases, strict=True):
            btn.setEnabled(self._fits(self._joined(phrase)))
        self._refresh_candidates()

    def _refresh_candidates(self) -> None:
        self.candidate_bar.setVisible(self._mode == "pinyin")
        words = candidates(self._spelling, CANDIDATES)
        self.composition_key.setVisible(bool(self._spelling))
        self.composition_key.setText(self._spelling)  # letters only: nothing to escape
        for i, btn in enumerate(self.candidate_keys):
            btn.setVisible(i < len(words))
            btn.setText(words[i] if i < len(words) else "")
            btn.setEnabled(i < len(words) and self._fits(words[i]))
        if not self._spelling:
            self.hint.setText(self._t("keyboard.pinyin_hint"))
        else:
            self.hint.setText("" if words else self._t("keyboard.no_match"))
