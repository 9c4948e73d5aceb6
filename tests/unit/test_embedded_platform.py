"""A terminal installed without the platform (pip install '.[terminal]') and no [central] url:
the embedded platform says in one line why it is not there, and the terminal goes on."""

from __future__ import annotations

import importlib.util
import logging
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.platform_link.embedded import EmbeddedCentral


def test_without_the_platform_installed_it_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = importlib.util.find_spec

    def platform_absent(name: str, *args: Any) -> Any:
        return None if name in ("fastapi", "sqlalchemy") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", platform_absent)
    ready: list[tuple[str, str]] = []
    embedded = EmbeddedCentral(
        tmp_path, "kiosk-alone", lambda url, token: ready.append((url, token))
    )
    with caplog.at_level(logging.ERROR, logger="kiosk.platform_link.embedded"):
        embedded.start()
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        embedded.stop()
    assert ready == []
    (record,) = caplog.records
    assert "pip install '.[central]'" in record.getMessage()
    assert "\n" not in record.getMessage()
    assert not (tmp_path / "central").exists()  # nothing was tried


def test_a_platform_that_dies_is_started_again_and_handed_over(tmp_path: Path) -> None:
    """The embedded platform's process is killed: the supervisor starts another, the terminal
    is told its new address, and the restart shows in the worker's health."""
    ready: list[str] = []
    embedded = EmbeddedCentral(tmp_path, "kiosk-embedded", lambda url, token: ready.append(url))
    embedded.worker._base = 0.1  # a short backoff for the test
    embedded.start()
    try:
        deadline = time.monotonic() + 60
        while not ready:
            assert time.monotonic() < deadline, "the embedded platform never came up"
            time.sleep(0.05)
        first = embedded._process
        assert first is not None
        first.send_signal(signal.SIGKILL)
        while len(ready) < 2:
            assert time.monotonic() < deadline, "the embedded platform was not started again"
            time.sleep(0.05)
        health = embedded.worker.health
        assert (health.restarts, health.fault) == (1, "crashed:RuntimeError")
        assert embedded._process is not first and embedded._process.poll() is None
    finally:
        embedded.stop()
    assert embedded._process is None or embedded._process.poll() is not None


def test_the_embedded_platform_gives_the_terminal_a_key_to_seal_to(tmp_path: Path) -> None:
    """Trying things out (--simulate): feedback and request slips are sealed to the embedded
    platform's own key, not held back for want of one."""
    from kiosk.config.settings import load_settings
    from kiosk.platform_link.personal_key import AppliedPersonalKey

    settings = load_settings(data_dir=tmp_path).simulated()
    key = AppliedPersonalKey(settings)
    assert key() is None  # no platform yet, no key
    ready: list[str] = []
    embedded = EmbeddedCentral(tmp_path, "kiosk-embedded", lambda url, token: ready.append(url))
    embedded.start()
    try:
        deadline = time.monotonic() + 60
        while not ready:
            assert time.monotonic() < deadline, "the embedded platform never came up"
            time.sleep(0.05)
        found = key()
        assert found is not None and len(found.key_id) > 0
        assert (tmp_path / "central" / "personal" / "embedded.key").exists()
        production = AppliedPersonalKey(load_settings(data_dir=tmp_path))  # embedded = false
        assert production() is None  # never a key from the data directory outside embedded use
    finally:
        embedded.stop()
