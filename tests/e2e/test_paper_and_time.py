"""At the real window: a printer out of paper and a resident who walks away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.x11 import Terminal


def test_out_of_paper_greys_the_certificate_and_the_ticket_shows_on_screen(
    terminal: Terminal,
) -> None:
    terminal.touch("simPaperOut")
    terminal.touch("startButton")
    terminal.wait_for(lambda: terminal.state() == "catalogue", "the catalogue")
    terminal.wait_for(lambda: not terminal.enabled("service_certificate"), "certificate greyed")
    assert terminal.enabled("service_queue_ticket")
    terminal.screenshot("paper-out-catalogue")
    terminal.touch("service_queue_ticket")
    terminal.present_card()
    for name in ("option_general", "confirmButton"):
        terminal.touch(name)
    terminal.wait_for(lambda: terminal.state() == "result", "the ticket")
    # No paper: the number stays on screen with a code to photograph.
    terminal.wait_for(lambda: "qrHint" in terminal.widgets(), "the code to photograph", 15)
    assert "ticketNumber" in terminal.widgets()
    terminal.screenshot("paper-out-ticket")
    assert terminal.audit_problems() == []


@pytest.fixture
def hurried(xdisplay: str, tmp_path: Path, artifacts: Path) -> Iterator[Terminal]:
    """A terminal whose catalogue waits the shortest time the rules allow (30 s, warned at 20)."""
    term = Terminal(
        xdisplay, tmp_path / "data", artifacts / "e2e" / "timeout",
        config_text="[timeouts]\ncatalogue = 30\nwarning = 20\n",
    )  # fmt: skip
    try:
        yield term.start()
    finally:
        term.stop()


def test_a_walked_away_visit_warns_extends_then_ends(hurried: Terminal) -> None:
    terminal = hurried
    terminal.touch("startButton")
    terminal.wait_for(lambda: terminal.state() == "catalogue", "the catalogue")
    # Twenty seconds before the end, one tap gives more time (WCAG 2.2.1) ...
    terminal.wait_for(lambda: "moreTimeButton" in terminal.widgets(), "the warning", 20)
    terminal.screenshot("timeout-warning")
    terminal.touch("moreTimeButton")
    terminal.wait_for(lambda: "moreTimeButton" not in terminal.widgets(), "the warning gone", 5)
    assert terminal.state() == "catalogue"
    # ... and without it the visit ends on its own, with the goodbye of a timeout.
    terminal.wait_for(lambda: "moreTimeButton" in terminal.widgets(), "the warning again", 20)
    terminal.wait_for(lambda: terminal.state() == "goodbye", "the goodbye", 30)
    terminal.screenshot("timeout-goodbye")
    assert "goodbyeRemind" in terminal.widgets()
    terminal.wait_for(lambda: terminal.state() == "attract", "the attract screen", 20)
    assert terminal.audit_problems() == []
