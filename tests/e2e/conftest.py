"""The real-window suite: one virtual X display per module, a fresh terminal per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.x11 import Terminal, virtual_display


@pytest.fixture(scope="module")
def xdisplay() -> Iterator[str]:
    with virtual_display() as name:
        yield name


@pytest.fixture
def terminal(
    xdisplay: str, tmp_path: Path, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Terminal]:
    term = Terminal(xdisplay, tmp_path / "data", artifacts / "e2e" / request.node.name)
    try:
        yield term.start()
    finally:
        term.stop()
