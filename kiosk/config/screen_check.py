"""Before a signed configuration is taken up: every screen, in every theme and language, rendered
offscreen with it and put through the layout audit, in a child process (``kiosk gallery --audit
--bundle FILE``) started from the sync worker's thread. The running window is never touched and
the Qt main thread never waits: a catalogue whose service name no tile can hold is refused before
anything changes on the terminal, and reported to the platform like any other refusal."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 300.0  # seconds: ~200 screens on a slow panel PC
SHOWN_PROBLEMS = 3  # in the report to the platform: enough to act on, short enough to read
# The terminal's panel: the audit measures against the screen the window would fill.
PANEL = {"name": "kiosk-panel", "x": 0, "y": 0, "width": 1920, "height": 1080,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}  # fmt: skip


def screen_problems(raw: bytes) -> list[str]:
    """What the layout audit finds on every screen with this bundle's configuration; empty when
    nothing is cut. A check that cannot run at all is a problem too: better refused than blind."""
    with tempfile.TemporaryDirectory(prefix="kiosk-screen-check-") as folder:
        bundle = Path(folder) / "bundle.json"
        bundle.write_bytes(raw)
        screens = Path(folder) / "screen.json"
        # No frame margins: the window sits at (0, 0) and is exactly the panel, as in a kiosk.
        config = {"synchronousWindowSystemEvents": False, "windowFrameMargins": False,
                  "screens": [PANEL]}  # fmt: skip
        screens.write_text(json.dumps(config), "utf-8")
        env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screens}"}
        try:
            done = subprocess.run(
                [sys.executable, "-m", "kiosk", "gallery", "--audit", "--bundle", str(bundle)],
                env=env, capture_output=True, text=True, timeout=CHECK_TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return [f"the screen check did not finish in {CHECK_TIMEOUT:.0f} s"]
        except OSError as exc:
            return [f"the screen check could not start: {exc}"]
    if done.returncode == 0:
        return []
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return [f"the screen check failed: {tail[0]}"]
    return lines


REPORT_CHARS = 480  # the platform's report reason holds 500


def summary(problems: list[str]) -> str:
    """The first problems, in one line that fits the configuration report."""
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    text = f"screens: {shown}" + (f" (and {more} more)" if more > 0 else "")
    return text if len(text) <= REPORT_CHARS else text[: REPORT_CHARS - 1] + "…"
