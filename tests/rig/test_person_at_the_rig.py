"""The semi-automatic acceptance test as the person at the rig lives it: `kiosk rig run` in a
process of its own prints what to do and waits, on the terminal the person types at (its
standard input). Enter answers a step with nothing to watch; a step watching the screen is done
when the terminal shows it; no answer fails the step after its timeout, and the run says so."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ANSWERED = """\
name: the person lays the card and says so
steps:
  - wait_for: attract
  - ask: lay the test card on the reader
  - touch: startButton
  - ask: {prompt: look at the catalogue, until: {state: catalogue}, timeout: 10}
"""

UNANSWERED = """\
name: nobody answers
steps:
  - wait_for: attract
  - ask: {prompt: press the paper feed button, timeout: 2}
"""


def test_the_person_answers_one_scenario_and_not_the_next(tmp_path: Path) -> None:
    answered, unanswered = tmp_path / "answered.yaml", tmp_path / "unanswered.yaml"
    answered.write_text(ANSWERED, "utf-8")
    unanswered.write_text(UNANSWERED, "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    rig = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "rig", "run", str(answered), str(unanswered),
         "--artifacts", str(tmp_path / "artifacts")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env=env,
    )  # fmt: skip
    assert rig.stdin is not None and rig.stderr is not None and rig.stdout is not None
    said: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [said.put(line) for line in rig.stderr], daemon=True).start()  # type: ignore[union-attr]
    heard: list[str] = []

    def wait_for(start: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = said.get(timeout=0.5)
            except queue.Empty:
                continue
            heard.append(line)
            if line.lstrip("\a").startswith(start):
                return
        raise AssertionError(f"no {start!r} within {seconds} s; heard {heard[-20:]}")

    try:
        wait_for(">>> lay the test card on the reader (press Enter when done)", 180)
        time.sleep(1.0)  # the person takes a moment: the rig waits, it does not move on
        waited = [said.get_nowait() for _ in range(said.qsize())]
        assert not any(">>> " in line for line in waited), waited  # nothing answered it yet
        heard.extend(waited)
        rig.stdin.write("\n")
        rig.stdin.flush()
        wait_for(">>> thank you", 10)
        wait_for(">>> look at the catalogue [10 s]", 60)  # no Enter: the screen answers it
        wait_for(">>> thank you", 20)
        wait_for(">>> press the paper feed button (press Enter when done) [2 s]", 120)
        wait_for(">>> no answer: the step fails", 20)
        out, _ = rig.communicate(timeout=120)
    finally:
        if rig.poll() is None:
            rig.kill()
            rig.wait()
    assert rig.returncode == 1, out
    summary = out.splitlines()
    assert summary[0].startswith("PASS  the person lays the card and says so"), summary
    assert summary[1].startswith("FAIL  nobody answers"), summary
    assert "asked 'press the paper feed button'; not done in 2 s" in summary[1]
    assert not any("Traceback" in line for line in heard)
