"""Imported first by the benchmarks that run the real window: headless Qt on the terminal's
panel size (as tests/conftest.py sets up), Qt's mock speech engine (the spoken-guidance code
runs, no speech daemon is spawned to outlive the run; set KIOSK_VOICE_ENGINE=speechd to time the
audible one), and the project on the import path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PANEL = f"offscreen:configfile={ROOT / 'tests' / 'screen.json'}"

os.environ.setdefault("QT_QPA_PLATFORM", PANEL)
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = PANEL
os.environ.setdefault("KIOSK_VOICE_ENGINE", "mock")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
