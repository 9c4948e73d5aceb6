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
    assert terminal.audit_problems() == []
