"""Every text a resident can see exists in both languages, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.texts import LANGUAGES, Texts, _table, missing_keys

ROOT = Path(__file__).resolve().parents[2]


def test_languages_have_the_same_keys() -> None:
    assert missing_keys() == {}


def test_keys_named_in_code_exist() -> None:
    pattern = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.0-9]+)["']""")
    used: set[str] = set()
    for folder in ("kiosk", "screens"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(pattern.findall(path.read_text("utf-8")))
    assert len(used) > 20
    for language in LANGUAGES:
        assert used <= set(_table(language)), used - set(_table(language))


def test_english_texts_contain_no_chinese_except_the_switch() -> None:
    table = _table("en")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert [k for k, v in table.items() if cjk.search(v)] == ["language.switch"]


def test_placeholders_fill_in() -> None:
    assert Texts("zh_CN")("catalogue.greeting", name="王芳") == "王芳，您好"
    assert Texts("en")("timeout.warning", seconds=20).endswith("20 seconds.")


def test_no_screen_sets_a_literal_text() -> None:
    """What a resident reads comes from the translation files (or the catalogue), never from a
    string in the code. Symbols (a dot, a digit on a key) are not words; the simulator's bar is
    for technicians and bilingual by design."""
    literal = re.compile(r"""(?:setText|QLabel|QPushButton)\(\s*f?["']([^"']*)["']""")
    words = re.compile(r"[A-Za-z\u4e00-\u9fff]{2,}")
    found = []
    for path in (ROOT / "screens").rglob("*.py"):
        if path.name == "sim_panel.py":
            continue
        for text in literal.findall(path.read_text("utf-8")):
            # What is interpolated ({...}) or markup (<...>) is not a literal word.
            bare = re.sub(r"\{[^}]*\}?|<[^>]*>?", "", text)
            if words.search(bare):
                found.append((path.name, text))
    assert found == []
