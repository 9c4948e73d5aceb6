"""Translated texts by key. Code names keys; what a resident reads lives in ``locales/*.json``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("zh_CN", "en")


@cache
def _table(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise KeyError(f"unknown language {language!r}")
    text = resources.files("kiosk").joinpath(f"locales/{language}.json").read_text("utf-8")
    table: dict[str, str] = json.loads(text)
    return table


class Texts:
    """*extra* adds texts that come from configuration (the catalogue's service names)."""

    def __init__(self, language: str, extra: dict[str, str] | None = None) -> None:
        self.language = language
        self._table = {**_table(language), **(extra or {})}

    def __call__(self, key: str, **values: object) -> str:
        # A missing key shows the Chinese text rather than a raw key: never English-only, never
        # a code on a resident's screen.
        template = self._table.get(key) or _table("zh_CN").get(key) or ""
        return template.format(**values) if values else template


def has_text(language: str, key: str) -> bool:
    """Whether *language* itself has a text for *key* (no falling back to Chinese)."""
    return bool(_table(language).get(key))


def missing_keys() -> dict[str, set[str]]:
    """Keys present in one language but not another: a test keeps this empty."""
    keys = {lang: set(_table(lang)) for lang in LANGUAGES}
    everything = set().union(*keys.values())
    return {lang: everything - have for lang, have in keys.items() if everything - have}
