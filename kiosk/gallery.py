"""The gallery: every screen in every theme and language rendered offscreen to PNG, for operators
previewing a configuration (``kiosk gallery``), the layout tests and the README's pictures; and
the sample visits (fixtures) it renders."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.app import look_of, qt_app
from kiosk.visit.view import State, VisitView
from screens.main_window import KioskWindow

if TYPE_CHECKING:
    from collections.abc import Iterator

    from contracts.catalogue import Catalogue
    from kiosk.config.settings import Settings


def gallery_views(language: str) -> list[tuple[str, VisitView]]:
    """One representative view per screen and outcome (plus warning and failure variants)."""
    from datetime import datetime

    from kiosk.visit.session import AnswerLine

    when = datetime(2026, 11, 23, 9, 41).astimezone()
    name = "张秀英"
    base = VisitView(State.ATTRACT, language, 1)
    person = replace(base, resident_name=name)
    ticket = replace(person, service="queue_ticket", action="ticket", option="social_security")
    query = replace(person, service="social_security", action="query")
    answer = (
        AnswerLine("参保状态", "Status", "正常参保" if language == "zh_CN" else "Insured"),
        AnswerLine("累计缴费月数", "Months paid", "186"),
        AnswerLine("最近缴费月份", "Last month paid", "2026-10"),
        AnswerLine("最近缴费金额", "Last amount", "1,286.40"),
    )
    result = replace(
        ticket, state=State.RESULT, outcome="ticket", ticket="A007", created_at=when,
        receipt="printed", ahead=3,
    )  # fmt: skip
    feedback = replace(base, service="feedback", action="feedback")
    return [
        ("attract", base),
        ("identify", replace(base, state=State.IDENTIFY)),
        ("identify-reading", replace(base, state=State.IDENTIFY, reading_card=True)),
        ("identify-failed", replace(base, state=State.IDENTIFY, notice_key="card.read_failed")),
        ("identify-either", replace(base, state=State.IDENTIFY, service="medical_insurance",
                                    identify_by=("social_security_card", "id_card"))),
        ("catalogue", replace(base, state=State.CATALOGUE)),
        ("catalogue-elder-suggested", replace(person, state=State.CATALOGUE, suggest_elder=True)),
        (
            "catalogue-unavailable",
            replace(
                person,
                state=State.CATALOGUE,
                unavailable={
                    "certificate": ("device.printer_paper_out", "alternative.staff"),
                    "social_security": ("service.needs_network", "alternative.staff"),
                    "application_progress": ("device.camera_unavailable", "alternative.staff"),
                    "appointment_checkin": ("device.camera_unavailable", "alternative.staff"),
                },
            ),
        ),
        ("scan", replace(base, state=State.SCAN, service="application_progress",
                         action="progress", step=1, steps=1)),
        ("choose", replace(ticket, state=State.CHOOSE, option=None, step=2, steps=3)),
        ("keypad-phone", replace(feedback, state=State.KEYPAD, keypad_kind="phone", step=2,
                                 steps=3)),
        ("feedback", replace(feedback, state=State.FEEDBACK, step=1, steps=3)),
        ("confirm", replace(ticket, state=State.CONFIRM, step=3, steps=3)),
        ("confirm-query", replace(query, state=State.CONFIRM, step=2, steps=2)),
        ("confirm-feedback", replace(feedback, state=State.CONFIRM, step=3, steps=3,
                                     feedback_text="排队时间太长，希望多开一个窗口",
                                     feedback_phone="138****8000")),
        ("processing", replace(query, state=State.PROCESSING)),
        ("result", result),
        ("result-print-failed", replace(result, receipt="failed",
                                        receipt_key="device.printer_paper_out")),
        ("result-timeout-warning", replace(result, warning_seconds=17)),
        ("result-answer", replace(query, state=State.RESULT, outcome="answer", answer=answer,
                                  reference="Q20261123-4F2A9C01")),
        ("result-not-found", replace(query, state=State.RESULT, outcome="not_found",
                                     reason_key="answer.no_record")),
        ("result-offline-offer", replace(query, state=State.RESULT, outcome="offline_offer")),
        ("result-slip", replace(query, state=State.RESULT, outcome="slip", ticket="R0003",
                                created_at=when, receipt="printed")),
        ("result-staff", replace(base, state=State.RESULT, service="call_staff", outcome="staff",
                                 staff_called=True)),
        ("rating", replace(person, state=State.RATING)),
        ("rating-praise", replace(person, state=State.RATING, rating=5, rating_reasons=("quick",),
                                  rating_submit_in=9)),
        ("rating-complaint", replace(person, state=State.RATING, rating=1,
                                     rating_reasons=("wait", "result"), rating_submit_in=27)),
        ("problem", replace(base, state=State.PROBLEM, notice_key="problem.needs_network")),
        ("goodbye", replace(base, state=State.GOODBYE, end_reason="finished")),
        ("goodbye-timeout", replace(base, state=State.GOODBYE, end_reason="timeout")),
        ("goodbye-card-left", replace(base, state=State.GOODBYE, end_reason="timeout",
                                      card_left_on_reader=True)),
        ("attract-card-left", replace(base, card_left_on_reader=True)),
    ]  # fmt: skip


GALLERY_THEMES = {"normal": (False, False), "elder": (True, False), "contrast": (False, True)}


def _every_screen(settings: Settings, catalogue: Catalogue) -> Iterator[tuple[str, KioskWindow]]:
    """Show every gallery screen in every theme and language on a 1920x1080 window, yielding
    ``<screen>.<theme>.<language>`` and the window each time, laid out and painted."""
    from kiosk.texts import LANGUAGES

    app = qt_app()
    window = KioskWindow(look_of(settings))
    window.add_pages(catalogue)
    # The panel's size, fixed: a page that does not fit is found by the layout audit, not
    # hidden by a window that grows.
    window.setFixedSize(1920, 1080)
    window.show()
    try:
        for theme_name, (elder, contrast) in GALLERY_THEMES.items():
            for language in LANGUAGES:
                for name, view in gallery_views(language):
                    # Elder mode on, nobody is offered it again.
                    suggest = view.suggest_elder and not elder
                    themed = replace(view, elder=elder, contrast=contrast, suggest_elder=suggest)
                    window.show_view(themed)
                    app.processEvents()
                    yield f"{name}.{theme_name}.{language}", window
    finally:
        window.close()


def render_gallery(settings: Settings, out_dir: Path) -> list[Path]:
    """Every screen in every theme and language, to ``out_dir/<screen>.<theme>.<language>.png``."""
    from kiosk.config.overlay import with_applied_bundle
    from kiosk.config.settings import data_dir_of
    from kiosk.config.shipped import default_catalogue

    # What the terminal would show: the local configuration with any applied signed bundle.
    settings, signed = with_applied_bundle(settings, data_dir_of(settings))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for shown, window in _every_screen(settings, signed or default_catalogue()):
        path = out_dir / f"{shown}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"cannot write {path}")
        written.append(path)
    return written


def audit_gallery(settings: Settings, catalogue: Catalogue) -> list[str]:
    """The layout audit on every screen, theme and language with this configuration: what a
    resident would see cut off or squeezed (``<screen>.<theme>.<language>: problem``)."""
    from screens.layout_audit import audit

    problems: list[str] = []
    for shown, window in _every_screen(settings, catalogue):
        problems += [f"{shown}: {problem}" for problem in audit(window)]
    return problems


def audit_command(settings: Settings, bundle_file: Path | None) -> list[str]:
    """``kiosk gallery --audit``: the local configuration, or *bundle_file*'s over it."""
    from kiosk.config.shipped import default_catalogue

    catalogue = default_catalogue()
    if bundle_file is not None:
        from contracts.payload import validate_payload
        from kiosk.config.overlay import payload_changes

        # Already verified by the updater that asks; here only its content matters.
        signed = json.loads(bundle_file.read_bytes())["signed"]
        payload = validate_payload(signed["payload"])
        settings = settings.model_copy(update=payload_changes(payload, settings))
        catalogue = payload.parsed_catalogue() or catalogue
    return audit_gallery(settings, catalogue)
