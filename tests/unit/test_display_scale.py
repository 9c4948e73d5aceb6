"""runtime/display_scale.py: the factor that fits the 1920x1080 layout on a smaller panel."""

from __future__ import annotations

import pytest

from runtime import display_scale


@pytest.mark.parametrize(
    ("size", "factor"),
    [((1920, 1080), None), ((2560, 1440), None), ((1920, 1200), None), ((1280, 800), 0.666),
     ((1366, 768), 0.711), ((1280, 1024), 0.666), ((1024, 768), 0.533)],
)  # fmt: skip
def test_the_factor_fits_the_design_rounded_down(
    size: tuple[int, int], factor: float | None
) -> None:
    assert display_scale.scale_for(*size) == factor
    if factor is not None:
        assert 1920 * factor <= size[0] and 1080 * factor <= size[1]


def test_a_factor_set_by_hand_or_no_x_server_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(display_scale, "x_screen_size", lambda: (1280, 800))
    monkeypatch.setenv("DISPLAY", ":9")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("QT_SCALE_FACTOR", "0.9")
    assert display_scale.fit_to_screen() is None
    monkeypatch.delenv("QT_SCALE_FACTOR")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert display_scale.fit_to_screen() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert display_scale.fit_to_screen() == 0.666
    assert display_scale.fitted() == (
        "screen 1280x800 is smaller than the 1920x1080 layout: the interface is scaled by 0.666"
    )
    import os

    assert os.environ["QT_SCALE_FACTOR"] == "0.666"
