"""A terminal installed without the platform (pip install '.[terminal]') and no [central] url:
the embedded platform says in one line why it is not there, and the terminal goes on."""

from __future__ import annotations

import importlib.util
import logging
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
        embedded.stop()
    assert ready == []
    (record,) = caplog.records
    assert "pip install '.[central]'" in record.getMessage()
    assert "\n" not in record.getMessage()
    assert not (tmp_path / "central").exists()  # nothing was tried
