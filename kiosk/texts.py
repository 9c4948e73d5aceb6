"""Translated texts by key. Code names keys; what a resident reads lives in Qt Linguist
translation sources, ``locales/kiosk_<language>.ts`` (context ``kiosk``, the key as the source
text), compiled to ``.qm`` by ``deploy/translations.sh`` (``pyside6-lrelease``).

The screens look texts up through Qt's own translator and the compiled ``.qm``
(``screens.translation``); code without Qt (receipts, spoken sentences, the technician's CLI)
reads the same ``.ts`` here. A test keeps the two in step.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# The package's own folder: the translations are plain files beside the code (Qt's translator
# reads .qm files by path, so the package is never installed zipped).
PACKAGE = Path(__file__).resolve().parent
LANGUAGES = ("zh_CN", "en")
CONTEXT = "kiosk"


def ts_path(language: str) -> str:
    return f"locales/kiosk_{language}.ts"


@cache
def _table(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise KeyError(f"unknown language {language!r}")
    from xml.etree import ElementTree  # on the first lookup, not with the first frame

    source = (PACKAGE / ts_path(language)).read_bytes()
    table: dict[str, str] = {}
    for context in ElementTree.fromstring(source).iter("context"):
        if context.findtext("name") != CONTEXT:
            continue
        for message in context.iter("message"):
            key = message.findtext("source") or ""
            table[key] = message.findtext("translation") or ""
    return table


class Texts:
    """*extra* adds texts that come from configuration (the catalogue's service names)."""

    def __init__(self, language: str, extra: dict[str, str] | None = None) -> None:
        self.language = language
        self._extra = dict(extra or {})
        self._table = {**_table(language), **self._extra}

    def lookup(self, key: str) -> str:
        return self._table.get(key, "")

    def fallback(self, key: str) -> str:
        return _table("zh_CN").get(key, "")

    def __call__(self, key: str, **values: object) -> str:
        # A missing key shows the Chinese text rather than a raw key: never English-only, never
        # a code on a resident's screen.
        template = self.lookup(key) or self.fallback(key) or ""
        return template.format(**values) if values else template


def has_text(language: str, key: str) -> bool:
    """Whether *language* itself has a text for *key* (no falling back to Chinese)."""
    return bool(_table(language).get(key))


def missing_keys() -> dict[str, set[str]]:
    """Keys present in one language but not another: a test keeps this empty."""
    keys = {lang: set(_table(lang)) for lang in LANGUAGES}
    everything = set().union(*keys.values())
    return {lang: everything - have for lang, have in keys.items() if everything - have}
