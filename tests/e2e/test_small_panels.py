"""Panels smaller than 1920x1080, as kiosks often have (1366x768, 1280x800, 1280x1024): the real
terminal full screen on an X server of that size, touched through it. The interface is scaled
down evenly (runtime/display_scale.py) so that the layout audit finds nothing clipped or
squeezed, where the unscaled layout crushed the attract screen's buttons onto each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat

from runtime.display_scale import scale_for
from tests.e2e.x11 import Terminal, virtual_display


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768), (1280, 1024)])
def test_the_interface_fits_a_smaller_panel(
    size: tuple[int, int], tmp_path: Path, artifacts: Path
) -> None:
    factor = scale_for(*size)
    assert factor is not None
    with virtual_display(size) as name:
        term = Terminal(name, tmp_path / "data", artifacts / "e2e" / f"panel-{size[0]}x{size[1]}",
                        scale=factor)  # fmt: skip
        try:
            term.start()
            assert term.window_geometry() == (0, 0, *size)
            term.touch("startButton")
            term.wait_for(lambda: term.state() == "catalogue", "the catalogue")
            term.wait_for(lambda: "service_queue_ticket" in term.widgets(), "the services")
            shot = term.screenshot("catalogue")
            term.touch("service_queue_ticket")
            term.wait_for(lambda: term.state() == "identify", "the card step")
            assert term.audit_problems() == []
            with Image.open(shot) as picture:
                assert picture.size == size
                assert ImageStat.Stat(picture.convert("L")).stddev[0] > 20, "a blank screen"
            log = (tmp_path / "data" / "logs" / "kiosk.jsonl").read_text("utf-8")
            assert f"the interface is scaled by {factor:g}" in log
        finally:
            term.stop()


def test_unscaled_the_attract_screen_is_crushed(tmp_path: Path, artifacts: Path) -> None:
    """What the scale prevents, so the audit above means something: at 1280x800 with the
    factor held at 1, the audit reports widgets squeezed onto each other."""
    with virtual_display((1280, 800)) as name:
        term = Terminal(name, tmp_path / "data", artifacts / "e2e" / "panel-unscaled",
                        extra_env={"QT_SCALE_FACTOR": "1"})  # fmt: skip
        try:
            term.start()
            term.wait_for(lambda: bool(term.audit_problems()), "the audit's findings", 10)
            term.screenshot("attract-unscaled")
        finally:
            term.stop()
