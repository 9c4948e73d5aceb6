"""The rig's probe and live audit (KIOSK_WIDGET_PROBE, KIOSK_LAYOUT_AUDIT) write what they see, and
a path they cannot write stops them with one log line, never a traceback or a dead terminal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kiosk.visit.view import State, VisitView
from screens.layout_audit import LiveAudit
from screens.main_window import KioskWindow
from screens.probe import WidgetProbe


def test_the_probe_writes_where_the_widgets_are(pages_window: KioskWindow, tmp_path: Path) -> None:
    probe = WidgetProbe(pages_window, tmp_path / "probe.json")
    probe.write()
    seen = json.loads((tmp_path / "probe.json").read_text())
    assert seen["state"] == "attract" and "startButton" in seen["widgets"]
    assert len(seen["widgets"]["startButton"]) == 4


def test_unwritable_paths_stop_the_probe_and_the_audit_with_a_log_line(
    pages_window: KioskWindow, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = tmp_path / "missing-folder" / "file"
    pages_window.setFixedSize(100, 100)  # the audit then has something to write
    pages_window.show_view(VisitView(State.CATALOGUE, "zh_CN", 1))
    with caplog.at_level(logging.ERROR):
        WidgetProbe(pages_window, nowhere).write()
        LiveAudit(pages_window, nowhere).run()
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("widget probe stopped: cannot write") for m in messages), messages
    assert any(m.startswith("layout audit cannot write") for m in messages), messages
