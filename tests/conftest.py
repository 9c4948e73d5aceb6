"""Test-wide setup: Qt offscreen on a 1920x1080 panel, an artifacts folder, and a leak check."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent
# Before anything imports Qt: headless, with the terminal's real panel size.
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={HERE / 'screen.json'}")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={HERE / 'screen.json'}"

# Tests speak through Qt's mock engine: a real one would start a speech daemon that outlives them.
os.environ.setdefault("KIOSK_VOICE_ENGINE", "mock")

ARTIFACTS = Path(os.environ.get("KIOSK_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """A kiosk runs for months: a test that leaves a thread behind has found a leak."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
