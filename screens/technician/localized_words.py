"""The technician's words in the current language: device nouns, fault words, states, ages,
self-test results, and dates and times in the local zone and the language's own format."""

from __future__ import annotations

import re
from datetime import datetime

from kiosk.technician.said import duration, fault, noun, problem, render, state
from kiosk.technician.selftest_types import SelfTestResult
from kiosk.texts import Texts

__all__ = ["duration", "fault", "noun", "problem", "result", "stamped", "state", "when"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# An ISO 8601 time at the start of a line ("2026-12-05T14:03:07+08:00 ok: sent 3, ...").
_LEADING_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d[T ][0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)(.*)$", re.S)


def result(res: SelfTestResult, t: Texts) -> str:
    """What a self-test found, in *t*'s language (its English summary when it has no keys)."""
    return render(res.said, t) if res.said else res.summary


def when(moment: str | datetime | None, t: Texts, *, seconds: bool = False) -> str:
    """``2026年12月5日 14:03`` / ``5 Dec 2026 14:03`` in this terminal's time zone; what cannot
    be read as a time comes back as it was."""
    if not moment:
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return str(moment)
    local = moment.astimezone()  # a time without a zone is taken as local already
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return t(
        "diag.time.date_time",
        year=local.year,
        month=local.month,
        month_name=_MONTHS[local.month - 1],
        day=local.day,
        time=clock,
    )


def stamped(line: str, t: Texts) -> str:
    """A line that starts with an ISO time (the last sync's note), with that time made local."""
    match = _LEADING_STAMP.match(line)
    if match is None:
        return line
    shown = when(match.group(1), t)
    return line if shown == match.group(1) else shown + match.group(2)
