"""The kiosk session script (kiosk.service's ExecStart) on a virtual X server: it reads
session.conf as data, starts the X server, sets the screen up, and execs the terminal's command
with DISPLAY and Qt's xcb platform. (Xvfb has neither rotation nor DPMS: the script says so and
goes on, as it would with a misconfigured output.)"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

SESSION = (
    Path(__file__).resolve().parents[2]
    / "deploy/debian/terminal/opt/kiosk-terminal/libexec/kiosk-session"
)

pytestmark = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("Xvfb", "xset", "xrandr", "xinput")),
    reason="needs Xvfb, xset, xrandr and xinput (deploy/dev.sh setup installs them)",
)


def _session(tmp_path: Path, conf: str) -> tuple[str, str]:
    """Run the session with *conf*; its command records what it finds. Returns (what the
    command saw, what the session said)."""
    (tmp_path / "session.conf").write_text(conf)
    seen = tmp_path / "seen"
    probe = tmp_path / "probe.sh"
    probe.write_text(
        f'{{ echo "DISPLAY=$DISPLAY QT=$QT_QPA_PLATFORM args=$*"; xset q; xrandr --query; }}'
        f' >"{seen}" 2>&1\n'
    )
    env = {
        **os.environ,
        "KIOSK_SESSION_CONF": str(tmp_path / "session.conf"),
        "KIOSK_X_SERVER": "Xvfb -screen 0 1280x800x24",
        "KIOSK_SESSION_COMMAND": f"/bin/sh {probe} run --config x",
        "KIOSK_DATA_DIR": str(tmp_path / "data"),
    }
    # A session of its own: the X server and the blanking loop go with it afterwards. What it
    # says goes to a file: the blanking loop keeps its stderr open after the command ends.
    with (tmp_path / "said").open("w") as said_file:
        process = subprocess.Popen(
            ["bash", str(SESSION)], env=env, stderr=said_file, start_new_session=True
        )
        try:
            process.wait(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    said = (tmp_path / "said").read_text()
    assert process.returncode == 0, said
    return seen.read_text(), said


def test_the_session_starts_x_and_execs_the_terminal_without_blanking(tmp_path: Path) -> None:
    seen, said = _session(tmp_path, "# defaults but for the output\noutput=screen\n")
    first = seen.splitlines()[0]
    assert first.startswith("DISPLAY=:") and " QT=xcb args=run --config x" in first
    assert "timeout:  0" in seen  # the screen saver never starts
    assert "display :" in said and "output screen, rotation normal" in said
    assert "screen dark" not in said


def test_session_conf_is_read_as_data_and_mistakes_are_said(tmp_path: Path) -> None:
    conf = (
        "rotation=sideways\n"
        "hide_cursor=maybe\n"
        "blank=22:00-06:30  # nights\n"
        "bogus=1\n"
        "touch=$(touch /tmp/kiosk-session-injected)\n"
    )
    seen, said = _session(tmp_path, conf)
    assert "rotation=sideways is not normal, left, right or inverted: kept normal" in said
    assert "hide_cursor=maybe is not yes or no: kept yes" in said
    assert "unknown key bogus: ignored" in said
    assert "screen dark from 22:00 to 06:30, a touch wakes it for 2 min" in said
    assert "could not map touch screen '$(touch /tmp/kiosk-session-injected)'" in said
    assert not Path("/tmp/kiosk-session-injected").exists()
    assert seen.startswith("DISPLAY=:")


def test_a_rotation_the_output_cannot_do_is_said_and_the_terminal_starts(tmp_path: Path) -> None:
    seen, said = _session(tmp_path, "rotation=left\n")
    assert "could not rotate output 'screen' left" in said
    assert seen.startswith("DISPLAY=:")
