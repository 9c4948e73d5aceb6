"""The README's pictures, taken from the real window: `kiosk run --simulate` full screen on a
virtual X display, touched through the X server like a resident would, photographed as the X
server shows it (root-window screenshots), then put side by side.

    .venv/bin/python -m tests.e2e.readme_pictures [--out docs]

Writes visit.png (attract, catalogue, ticket, rating), elder.png (elder mode: catalogue,
choosing a certificate, the reasons after an unhappy face, the goodbye), technician.png (the
devices page and the self-tests) and receipt-preview.png (the simulated printer's last ticket).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image

from tests.e2e.x11 import ROOT, SCREEN, Terminal, virtual_display

GAP = 12  # pixels between the pictures of a sheet
BACKGROUND = (222, 216, 204)


def sheet(pictures: list[Path], out: Path, columns: int = 2, scale: float = 0.5) -> None:
    """*pictures* in a grid at *scale*, framed by a thin gap."""
    width, height = int(SCREEN[0] * scale), int(SCREEN[1] * scale)
    rows = -(-len(pictures) // columns)
    canvas = Image.new(
        "RGB", (columns * (width + GAP) + GAP, rows * (height + GAP) + GAP), BACKGROUND
    )
    for i, path in enumerate(pictures):
        with Image.open(path) as picture:
            small = picture.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
        x, y = GAP + (i % columns) * (width + GAP), GAP + (i // columns) * (height + GAP)
        canvas.paste(small, (x, y))
    canvas.save(out, optimize=True)


def settle() -> None:
    time.sleep(0.6)  # the page painted, the probe and the spinner caught up


def visit(term: Terminal) -> list[Path]:
    shots = [term.screenshot("attract")]
    term.touch("startButton")
    term.wait_for(lambda: term.state() == "catalogue", "the catalogue")
    term.wait_for(lambda: term.enabled("service_social_security"), "the online services", 30)
    settle()
    shots.append(term.screenshot("catalogue"))
    term.touch("service_queue_ticket")
    term.wait_for(lambda: term.state() == "identify", "the ID card step")
    term.touch("simPresentCard")
    term.wait_for(lambda: term.state() == "choose", "the kinds of window", 20)
    term.touch("option_social_security")
    term.touch("confirmButton")
    term.wait_for(lambda: term.state() == "result", "the ticket", 15)
    term.wait_for((term.data_dir / "printer" / "last-receipt.png").exists, "paper")
    settle()
    shots.append(term.screenshot("ticket"))
    term.touch("nextButton")
    term.touch("rate4")
    term.touch("reason_quick")
    settle()
    shots.append(term.screenshot("rating"))
    term.touch("submitRating")
    term.touch("simRemoveCard")
    term.wait_for(lambda: term.state() == "attract", "the attract screen", 20)
    return shots


def elder(term: Terminal) -> list[Path]:
    term.touch("elderButton")
    term.wait_for(lambda: term.probe().get("elder") is True, "elder mode", 5)
    term.touch("startButton")
    term.wait_for(lambda: term.state() == "catalogue", "the catalogue")
    settle()
    shots = [term.screenshot("elder-catalogue")]
    term.touch("service_certificate")
    term.wait_for(lambda: term.state() == "identify", "the ID card step")
    term.touch("simPresentCard")
    term.wait_for(lambda: term.state() == "choose", "the certificate kinds", 20)
    settle()
    shots.append(term.screenshot("elder-choose"))
    term.touch("option_insured_certificate")
    term.touch("confirmButton")
    term.wait_for(lambda: term.state() == "result", "the certificate", 20)
    term.touch("nextButton")
    term.touch("rate2")
    term.touch("reason_wait")
    settle()
    shots.append(term.screenshot("elder-rating"))
    term.touch("submitRating")
    term.wait_for(lambda: term.state() == "goodbye", "the goodbye")
    settle()
    shots.append(term.screenshot("elder-goodbye"))
    term.touch("simRemoveCard")
    return shots


def technician(term: Terminal) -> list[Path]:
    for _ in range(5):
        term.touch_at(30, 30)
        time.sleep(0.15)
    term.wait_for(lambda: "PinOverlay" in term.widgets(), "the PIN pad", 5)
    for digit in "123456":  # the simulator's documented test PIN
        term.touch(f"pin{digit}")
    term.touch("pinEnter")
    term.wait_for(lambda: term.state() == "technician", "the technician's mode", 10)
    settle()
    shots = [term.screenshot("technician-devices")]
    term.touch("diagNav_selftests")
    for name in ("print", "network", "disk", "voice"):  # one at a time, each on its worker
        term.touch(f"selftest_{name}")
        time.sleep(3)
    shots.append(term.screenshot("technician-selftests"))
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, virtual_display() as name:
        work = Path(scratch)
        for part, pictures in (("visit", visit), ("elder", elder), ("technician", technician)):
            term = Terminal(name, work / part / "data", work / part / "shots").start()
            try:
                shots = pictures(term)
                if part == "visit":
                    shutil.copy(term.data_dir / "printer" / "last-receipt.png",
                                out / "receipt-preview.png")  # fmt: skip
            finally:
                term.stop()
            sheet(shots, out / f"{part}.png")
            print(f"{out / f'{part}.png'}: {len(shots)} screens from the real window")


if __name__ == "__main__":
    main()
