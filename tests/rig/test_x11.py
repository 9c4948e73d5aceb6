"""One scenario through a real X display (Xvfb, no window manager), as a rig with a screen runs
it: the terminal full screen, every touch an XTest pointer event at the control's centre, the
screenshots the X root window."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tests.e2e.x11 import virtual_display

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1920, 1080), (1280, 800)])
def test_a_shipped_scenario_passes_on_a_real_x_display(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """At 1280x800 the interface is scaled down (runtime/display_scale.py): the rig's touches
    must land where the controls are on the screen, not where Qt's own pixels put them."""
    junit, artifacts = tmp_path / "junit.xml", tmp_path / "artifacts"
    with virtual_display(size) as display:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env["DISPLAY"] = display
        env["KIOSK_VOICE_ENGINE"] = "mock"
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", "rig", "run", "queue-ticket-online", "--screen", "x11",
             "--junit", str(junit), "--artifacts", str(artifacts)],
            capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("PASS  Queue ticket, online, by the ID card reader")
    case = ET.parse(junit).getroot().find("./testsuite/testcase")
    assert case is not None and case.find("failure") is None
    shot = Image.open(artifacts / "01-queue-ticket-online" / "ticket.png")
    assert shot.size == size  # the X root window, the terminal over all of it
    assert ImageStat.Stat(shot.convert("L")).stddev[0] > 20
