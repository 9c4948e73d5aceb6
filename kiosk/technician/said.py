"""What a self-test result says, as text keys with values rather than finished English, so the
technician's page can show it in the terminal's language while the CLI keeps English.

A result holds ``Said`` parts (a key of the translation files and its values). Values are plain
numbers and strings, or the markers below for words that themselves depend on the language: a
device's noun, a fault, a self-test's name, an age. ``render()`` turns parts into one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.technician.plain_words import device_noun, fault_words
from kiosk.texts import Texts


@dataclass(frozen=True)
class Said:
    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


def said(key: str, **values: Any) -> Said:
    return Said(key, values)


@dataclass(frozen=True)
class Noun:
    kind: str


@dataclass(frozen=True)
class Fault:
    kind: str
    code: str


@dataclass(frozen=True)
class TestName:
    name: str


@dataclass(frozen=True)
class Age:
    seconds: float


def device_problem(kind: str, code: str) -> Said:
    """``printer: paper out`` / ``打印机：缺纸``."""
    return said("diag.result.device_problem", device=Noun(kind), fault=Fault(kind, code))


# -- words that depend on the language --------------------------------------------------------
def noun(kind: str, t: Texts) -> str:
    if t.language == "en":
        return device_noun(kind)
    return t(f"diag.noun.{kind}") or device_noun(kind)


def fault(kind: str, code: str, t: Texts) -> str:
    if t.language == "en":  # the core's words, which know a camera's "read failed" from a card's
        return fault_words(code, kind)
    # A kind's own words first: a camera's "open failed" is not about a serial port.
    return t(f"diag.fault.{kind}.{code}") or t(f"diag.fault.{code}") or fault_words(code, kind)


def problem(kind: str, code: str, t: Texts) -> str:
    return render([device_problem(kind, code)], t)


def state(value: str, t: Texts) -> str:
    return t(f"diag.state.{value}") or value


def duration(seconds: float, t: Texts) -> str:
    whole = max(0, int(seconds + 0.999))
    minutes, rest = divmod(whole, 60)
    if minutes:
        return t("diag.time.minutes", m=minutes, s=rest)
    return t("diag.time.seconds", s=rest)


def age(seconds: float, t: Texts) -> str:
    """How long something has waited, in the one unit that reads best."""
    for limit, unit, size in ((120, "seconds", 1), (7200, "minutes", 60), (172800, "hours", 3600)):
        if seconds < limit:
            return t(f"diag.age.{unit}", n=round(seconds / size))
    return t("diag.age.days", n=round(seconds / 86400))


# -- rendering ---------------------------------------------------------------------------------
def _value(value: Any, t: Texts, names: bool) -> Any:
    if isinstance(value, Noun):
        return noun(value.kind, t)
    if isinstance(value, Fault):
        return fault(value.kind, value.code, t)
    if isinstance(value, TestName):
        # The CLI names a test as its command line does ("card"); the page as its button does.
        return (t(f"diag.selftest.{value.name}") or value.name) if names else value.name
    if isinstance(value, Age):
        return age(value.seconds, t)
    if isinstance(value, Said):
        return render([value], t, test_names=names)
    return value


def render(parts: Sequence[Said], t: Texts, *, test_names: bool = True) -> str:
    """The parts as one line in *t*'s language, joined as that language lists things."""
    lines = []
    for part in parts:
        template = t(part.key)
        values = {name: _value(v, t, test_names) for name, v in part.values.items()}
        lines.append(template.format(**values) if template else part.key)
    return ("，" if t.language == "zh_CN" else ", ").join(lines)


def english(parts: Sequence[Said]) -> str:
    """The technician's English line (the CLI, the bundle, the logs)."""
    return render(parts, Texts("en"), test_names=False)
