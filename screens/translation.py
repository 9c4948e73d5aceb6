"""The screens' texts through Qt's translation machinery: a ``QTranslator`` per language loaded
from the compiled ``.qm`` (built from the ``.ts`` sources by ``pyside6-lrelease``)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QTranslator

from kiosk.texts import CONTEXT, PACKAGE, Texts


class TranslationError(RuntimeError):
    """A compiled translation is missing: run deploy/translations.sh."""


@cache
def translator(language: str) -> QTranslator:
    path = PACKAGE / f"locales/kiosk_{language}.qm"
    qt = QTranslator()
    if not qt.load(str(path)):
        raise TranslationError(f"{path} cannot be loaded: run deploy/translations.sh")
    return qt


class QtTexts(Texts):
    """Texts whose translations come from Qt's translator; configuration texts (the catalogue's
    service names) still come from the configuration."""

    def __init__(self, language: str, extra: dict[str, str] | None = None) -> None:
        # Not Texts.__init__: the .ts sources are not read at all (the first frame waits on it).
        self.language = language
        self._extra = dict(extra or {})
        self._qt = translator(language)

    def lookup(self, key: str) -> str:
        if key in self._extra:
            return self._extra[key]
        return self._qt.translate(CONTEXT, key) or ""

    def fallback(self, key: str) -> str:
        return translator("zh_CN").translate(CONTEXT, key) or ""
