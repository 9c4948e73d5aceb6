"""Startup benchmark: process start to the first painted attract screen, against a bare PySide6
window that paints one label. Prints both medians and their ratio (goal: ratio <= 1.6).

    .venv/bin/python tests/benches/bench_startup.py [--runs 9]
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python tests/benches/bench_startup.py --x11
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def marks(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds from process start to each ``NAME <epoch>`` line the program prints."""
    started = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    found = {
        line.split()[0]: float(line.split()[1]) - started
        for line in out.stdout.splitlines()
        if line.startswith(("FIRST_PAINT ", "READY "))
    }
    if "FIRST_PAINT" not in found:
        raise RuntimeError(f"{cmd[1]} never painted (exit {out.returncode}): {out.stderr[-400:]}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--x11",
        action="store_true",
        help="paint on the X display in DISPLAY (e.g. under xvfb-run) instead of offscreen",
    )
    args = parser.parse_args()
    if args.x11 and not os.environ.get("DISPLAY"):
        parser.error("--x11 needs a display: DISPLAY is not set (try xvfb-run -a)")
    platform = "xcb" if args.x11 else f"offscreen:configfile={ROOT / 'tests' / 'screen.json'}"
    env = {**os.environ, "QT_QPA_PLATFORM": platform, "KIOSK_BENCH_FIRST_PAINT": "1"}
    bare_cmd = [sys.executable, str(HERE / "bare_window.py")]
    with tempfile.TemporaryDirectory() as data_dir:
        kiosk_cmd = [sys.executable, "-m", "kiosk", "run", "--simulate", "--data-dir", data_dir]
        marks(bare_cmd, env)  # warm the page cache for both
        marks(kiosk_cmd, env)
        bare, kiosk, ready = [], [], []
        for i in range(args.runs):  # interleaved, so drift in machine load hits both alike
            bare.append(marks(bare_cmd, env)["FIRST_PAINT"])
            k = marks(kiosk_cmd, env)
            kiosk.append(k["FIRST_PAINT"])
            ready.append(k["READY"])
            print(
                f"run {i + 1}/{args.runs}: bare {bare[-1] * 1000:.0f} ms, kiosk first paint "
                f"{kiosk[-1] * 1000:.0f} ms, ready {ready[-1] * 1000:.0f} ms",
                file=sys.stderr,
            )
    bare_ms = statistics.median(bare) * 1000
    kiosk_ms = statistics.median(kiosk) * 1000
    ready_ms = statistics.median(ready) * 1000
    print(f"bare PySide6 window, first paint, median of {args.runs}: {bare_ms:.0f} ms")
    print(f"kiosk attract screen, first paint, median of {args.runs}: {kiosk_ms:.0f} ms")
    print(f"ratio: {kiosk_ms / bare_ms:.2f} (goal <= 1.6)")
    print(f"kiosk ready for a resident (devices starting), median: {ready_ms:.0f} ms")


if __name__ == "__main__":
    main()
