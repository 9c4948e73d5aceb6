"""The terminal as a person gets it: `kiosk run --simulate` full screen on an X display with no
window manager, touched through the X server, seen in screenshots of the root window.
Screenshots go to test-artifacts/e2e/<test>/."""

from __future__ import annotations

import time

from tests.e2e.x11 import SCREEN, Terminal


def test_five_taps_in_the_corner_open_the_pin_pad_and_the_pin_opens_the_mode(
    terminal: Terminal,
) -> None:
    for _ in range(5):
        terminal.touch_at(30, 30)
        time.sleep(0.15)
    terminal.wait_for(lambda: "PinOverlay" in terminal.widgets(), "the PIN pad", 5)
    terminal.screenshot("pin-pad")
    for digit in "123456":  # the simulator's documented test PIN
        terminal.touch(f"pin{digit}")
    terminal.touch("pinEnter")
    terminal.wait_for(lambda: terminal.state() == "technician", "the technician's mode", 10)
    terminal.screenshot("technician-mode")


def test_the_window_stays_the_screen_through_elder_visits(terminal: Terminal) -> None:
    """Given a fresh terminal, when a resident switches elder mode on, starts and ends a visit,
    twice, then the window is exactly the screen after every step."""
    sizes = [terminal.window_geometry()]
    for round_ in range(2):
        terminal.touch("elderButton")
        terminal.wait_for(lambda: terminal.probe().get("elder") is True, "elder mode", 5)
        sizes.append(terminal.window_geometry())
        terminal.touch("startButton")
        terminal.wait_for(lambda: terminal.state() == "catalogue", "the catalogue", 5)
        sizes.append(terminal.window_geometry())
        terminal.screenshot(f"elder-catalogue-{round_}")
        terminal.touch("exitButton")
        terminal.wait_for(lambda: terminal.state() in ("goodbye", "attract"), "the goodbye", 5)
        time.sleep(0.3)
        sizes.append(terminal.window_geometry())
        terminal.screenshot(f"elder-after-{round_}")
        terminal.wait_for(lambda: terminal.state() == "attract", "the attract screen", 20)
    assert set(sizes) == {(0, 0, *SCREEN)}, sizes
    assert terminal.audit_problems() == []  # nothing cut off or off the screen, at any step


def test_high_contrast_and_english_pass_the_live_layout_audit(terminal: Terminal) -> None:
    terminal.touch("contrastButton")
    terminal.wait_for(lambda: terminal.probe().get("contrast") is True, "high contrast", 5)
    terminal.touch("languageButton")
    terminal.wait_for(lambda: terminal.probe().get("language") == "en", "English", 5)
    terminal.touch("startButton")
    terminal.wait_for(lambda: terminal.state() == "catalogue", "the catalogue", 5)
    terminal.screenshot("contrast-english-catalogue")
    terminal.touch("elderButton")
    terminal.wait_for(lambda: terminal.probe().get("elder") is True, "elder mode", 5)
    terminal.screenshot("contrast-english-elder-catalogue")
    terminal.touch("exitButton")
    terminal.wait_for(lambda: terminal.state() in ("goodbye", "attract"), "the goodbye", 5)
    assert terminal.window_geometry() == (0, 0, *SCREEN)
    problems = terminal.audit_problems()
    assert problems == [], [p["problem"] for p in problems]


def test_an_elder_resident_goes_through_a_whole_service(terminal: Terminal) -> None:
    """Elder mode from the attract screen to the goodbye through a certificate (ID card, a kind,
    confirm, the printed result) and a rating with a reason; the window stays the screen and
    the live audit finds nothing cut, squeezed or off the screen at any step."""
    steps: list[tuple[str, tuple[int, int, int, int]]] = []

    def step(name: str, state: str, timeout: float = 10) -> None:
        terminal.touch(name, timeout=30 if name.startswith("service_") else 10)
        terminal.wait_for(lambda: terminal.state() == state, state, timeout)
        time.sleep(0.2)  # let the screen settle for the picture and the audit
        terminal.screenshot(f"elder-{len(steps):02d}-{state}")
        steps.append((state, terminal.window_geometry()))

    terminal.touch("elderButton")
    terminal.wait_for(lambda: terminal.probe().get("elder") is True, "elder mode", 5)
    step("startButton", "catalogue")
    step("service_certificate", "identify")
    step("simPresentCard", "choose")
    step("option_insured_certificate", "confirm")
    step("confirmButton", "result", timeout=20)
    step("nextButton", "rating")
    step("rate2", "rating")
    step("reason_hard", "rating")
    step("submitRating", "goodbye")
    terminal.take_card()
    assert {geometry for _, geometry in steps} == {(0, 0, *SCREEN)}, steps
    problems = terminal.audit_problems()
    assert problems == [], [(p["state"], p["problem"]) for p in problems]


def test_every_technician_page_passes_the_live_audit(terminal: Terminal) -> None:
    for _ in range(5):
        terminal.touch_at(30, 30)
        time.sleep(0.15)
    terminal.wait_for(lambda: "PinOverlay" in terminal.widgets(), "the PIN pad", 5)
    for digit in "123456":
        terminal.touch(f"pin{digit}")
    terminal.touch("pinEnter")
    terminal.wait_for(lambda: terminal.state() == "technician", "the technician's mode", 10)
    pages = sorted(name for name in terminal.widgets() if name.startswith("diagNav_"))
    assert len(pages) >= 5, pages
    for name in pages:
        terminal.touch(name)
        time.sleep(0.6)  # a page loads its rows off the main thread
        terminal.screenshot(f"technician-{name.removeprefix('diagNav_')}")
    assert terminal.window_geometry() == (0, 0, *SCREEN)
    problems = terminal.audit_problems()
    assert problems == [], [p["problem"] for p in problems]
