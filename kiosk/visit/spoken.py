"""What the terminal says aloud for a visit view, and when: every step and every problem, once.

Qt-free: sentences are built from the same translation keys the screens show, so what a resident
hears matches what they read. The resident's name is never spoken: others stand in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kiosk.visit.session import State, VisitView
from kiosk.visit.view import ahead_key


class Translate(Protocol):
    def __call__(self, key: str, **values: object) -> str: ...


@dataclass(frozen=True)
class Speech:
    text: str  # what to say now
    language: str
    interrupt: bool  # a new step cuts the old sentence off; news on the same step waits its turn
    full: str  # what "say it again" repeats: the whole step with its notices


_SENTENCE_ENDS = ("。", "！", "？", "…", ".", "!", "?")


def speech_for(view: VisitView, t: Translate) -> str | None:
    """The whole sentence for *view*: the step, then any notice, then any timeout warning."""
    parts = _step(view, t)
    for notice in _notices(view):
        parts += _notice(view, t, notice)
    return _join([*parts, *_warning(view, t)], view.language)


class SpeechPlanner:
    """Decides what is new in each published view, so a view re-published by every tick (the
    countdown, the header's sync status) is not spoken again."""

    def __init__(self) -> None:
        self._last: tuple[int, State, str, tuple[str, ...], bool, bool | None] | None = None

    def plan(self, view: VisitView, t: Translate) -> Speech | None:
        key = (
            view.visit,
            view.state,
            view.language,
            _notices(view),
            view.warning_seconds is not None,
            view.rating >= 4 if view.rating else None,
        )
        before, self._last = self._last, key
        if key == before:
            return None
        full = speech_for(view, t)
        if full is None:
            return None
        if before is None or key[:3] != before[:3]:
            return Speech(full, view.language, True, full)
        # Same step: say only what has just appeared; a notice or warning going away is silent.
        parts: list[str] = []
        for notice in key[3]:
            if notice not in before[3]:
                parts += _notice(view, t, notice)
        if key[4] and not before[4]:
            parts += _warning(view, t)
        if key[5] is not None and key[5] != before[5]:
            parts += _step(view, t)  # a face was tapped: the reasons question that fits it
        news = _join(parts, view.language)
        return None if news is None else Speech(news, view.language, False, full)


def _step(view: VisitView, t: Translate) -> list[str]:
    s = view.state
    if s is State.ATTRACT:
        invite = "attract.subtitle_touch" if view.card_reader_down else "attract.subtitle"
        return [t("attract.title"), t(invite)]
    if s is State.IDENTIFY:
        return [t("identify.title"), t("identify.hint")]
    if s is State.CATALOGUE:
        # "Welcome", never the greeting by name: others stand in the queue.
        elder = [t("elder.suggest")] if view.suggest_elder else []
        return [t("catalogue.welcome"), *elder, t("catalogue.title")]
    if s is State.SCAN:
        return [t(f"scan.{view.service}.title") or t("scan.title"), t("scan.hint")]
    if s is State.CHOOSE:
        return [t(f"choose.title.{view.service}") or t("choose.title")]
    if s is State.KEYPAD:  # never what was typed: a phone number is personal
        kind = view.keypad_kind or "phone"
        return [t(f"keypad.{kind}.title"), t(f"keypad.{kind}.hint")]
    if s is State.FEEDBACK:
        return [t("feedback.title"), t("feedback.hint")]
    if s is State.CONFIRM:
        service = t(f"service.{view.service}.name")
        option = t(f"option.{view.option}") if view.option else service
        action = view.action or "ticket"
        return [
            t("confirm.title"),
            t(f"confirm.{action}.body", option=option, service=service),
            _tap(t, f"confirm.{action}.ok"),
        ]
    if s is State.PROCESSING:
        return [t("processing.title")]
    if s is State.RESULT:
        return _result(view, t)
    if s is State.RATING:
        if not view.rating:
            return [t("rating.title"), t("speak.rating")]
        return [t("speak.rating_praise" if view.rating >= 4 else "speak.rating_complaint")]
    if s is State.PROBLEM:
        return [t("problem.title"), t(view.notice_key or "problem.record_failed")]
    if s is State.GOODBYE:
        remind = "card.take_away" if view.card_left_on_reader else "goodbye.remind"
        return [t("goodbye.title"), t(f"goodbye.{view.end_reason or 'finished'}"), t(remind)]
    return []  # the technician's mode is not narrated


def _result(view: VisitView, t: Translate) -> list[str]:
    # An answer's lines (balances, records) are shown, never read out in a public hall.
    outcome = view.outcome or "ticket"
    body = (t(view.reason_key) if view.reason_key else "") or t(f"result.{outcome}.body")
    parts = [t(f"result.{outcome}.title"), body, _number(view, t)]
    if outcome == "offline_offer":
        parts.append(_tap(t, "result.request_slip"))
    return parts


def _notices(view: VisitView) -> tuple[str, ...]:
    """The notices showing now, as the keys that say them."""
    found = []
    if view.state in (State.IDENTIFY, State.SCAN):
        # A device being away matters more than an earlier problem, as on screen.
        key = view.device_notice_key or view.notice_key
        if key:
            found.append(key)
    if view.state is State.RESULT and view.outcome == "ticket" and view.ahead is not None:
        found.append(ahead_key(view.ahead))
    if view.state is State.RESULT and view.receipt:
        found.append(_RECEIPT_KEYS.get(view.receipt, ""))
    if view.staff_called:
        found.append("staff.called")
    if view.card_left_on_reader:
        found.append("card.take_away")
    return tuple(key for key in found if key)


_RECEIPT_KEYS = {
    "printing": "result.printing",
    "printed": "result.printed",
    "failed": "result.print_failed",
}


def _notice(view: VisitView, t: Translate, key: str) -> list[str]:
    if key.startswith("result.ahead"):
        return [t(key, count=view.ahead)]
    if key != "result.print_failed":
        return [t(key)]
    # The paper is what they would have kept: say the number, or where the QR code helps.
    return [t(key), _number(view, t) or t("result.photograph")]


def _warning(view: VisitView, t: Translate) -> list[str]:
    if view.warning_seconds is None:
        return []
    return [t("timeout.warning", seconds=view.warning_seconds), _tap(t, "common.more_time")]


def _tap(t: Translate, button_key: str) -> str:
    button = t(button_key)
    return t("speak.tap", button=button) if button else ""


def _number(view: VisitView, t: Translate) -> str:
    """A queue ticket or request slip number, one character at a time as a counter calls it
    ("A 0 0 1", not "A one"); other references are too long to listen to."""
    label = {"ticket": "result.ticket_label", "slip": "result.slip_label"}.get(
        view.outcome or "ticket"
    )
    if label is None or not view.ticket:
        return ""
    return f"{t(label)} {' '.join(view.ticket)}"


def _join(parts: list[str], language: str) -> str | None:
    """Sentences joined with the language's full stop; None when nothing is left to say
    (a missing translation is an empty string, never a sentence)."""
    sentences = [p.strip() for p in parts if p and p.strip()]
    if not sentences:
        return None
    stop, gap = ("。", "") if language.startswith("zh") else (".", " ")
    return gap.join(s if s.endswith(_SENTENCE_ENDS) else s + stop for s in sentences)
