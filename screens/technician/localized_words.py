"""The technician's words in the current language: device nouns, fault words, states, ages."""

from __future__ import annotations

from kiosk.technician.plain_words import device_noun, fault_words
from kiosk.texts import Texts


def noun(kind: str, t: Texts) -> str:
    if t.language == "en":
        return device_noun(kind)
    return t(f"diag.noun.{kind}") or device_noun(kind)


def fault(kind: str, code: str, t: Texts) -> str:
    if t.language == "en":  # the core's words, which know a camera's "read failed" from a card's
        return fault_words(code, kind)
    return t(f"diag.fault.{code}") or fault_words(code, kind)


def problem(kind: str, code: str, t: Texts) -> str:
    """``printer: paper out`` / ``打印机：缺纸``."""
    separator = ": " if t.language == "en" else "："
    return f"{noun(kind, t)}{separator}{fault(kind, code, t)}"


def state(value: str, t: Texts) -> str:
    return t(f"diag.state.{value}") or value


def duration(seconds: float, t: Texts) -> str:
    whole = max(0, int(seconds + 0.999))
    minutes, rest = divmod(whole, 60)
    if minutes:
        return t("diag.time.minutes", m=minutes, s=rest)
    return t("diag.time.seconds", s=rest)
