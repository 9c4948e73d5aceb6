"""Every look's colour pairs that carry text meet WCAG contrast: 4.5:1 in the normal and elder
looks (the MIIT 适老化 bar), 7:1 in high contrast."""

from __future__ import annotations

import pytest

from screens import theme

# (text colour, the background it is drawn on), by Look field
PAIRS = [
    ("text", "background"), ("muted", "background"), ("primary", "background"),
    ("text", "surface"), ("primary", "surface"), ("on_primary", "primary"),
    ("notice", "notice_bg"), ("notice", "background"), ("disabled_text", "disabled_bg"),
    ("primary", "pressed_bg"),
]  # fmt: skip


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_formula() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(
    ("look", "minimum"),
    [(theme.NORMAL, 4.5), (theme.ELDER, 4.5), (theme.HIGH_CONTRAST, 7.0),
     (theme.look_for(True, True), 7.0)],
    ids=lambda v: getattr(v, "name", str(v)),
)  # fmt: skip
def test_text_contrast(look: theme.Look, minimum: float) -> None:
    low = {
        f"{fg} on {bg}": round(contrast(getattr(look, fg), getattr(look, bg)), 2)
        for fg, bg in PAIRS
        if contrast(getattr(look, fg), getattr(look, bg)) < minimum
    }
    assert low == {}


def test_elder_mode_shows_every_size_at_least_as_large_as_normal() -> None:
    """A resident who asks for larger text never gets a smaller ticket number or title."""
    for size in ("title_px", "main_px", "body_px", "notice_px", "small_px", "ticket_px",
                 "tile_name_px", "button_min_h"):  # fmt: skip
        assert getattr(theme.ELDER, size) > getattr(theme.NORMAL, size), size
