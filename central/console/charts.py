"""Charts drawn on the server as SVG: no script, nothing fetched from elsewhere (platforms often sit
on a network without the internet), readable printed, and each bar carries its figure as text and
as a <title> for screen readers. A charting library would need a script and a build for a few
bar charts."""

from __future__ import annotations

from html import escape

WIDTH, BAR, GAP, LABEL = 640, 14, 6, 190


def paired_bars(rows: list[tuple[str, float | None, float | None]], legend: tuple[str, str]) -> str:
    """Two bars per row (two ratios in 0..1): e.g. 一次办成率 and 满意率 by service."""
    if not rows:
        return ""
    band = 2 * BAR + GAP * 2
    height = len(rows) * band + 28
    span = WIDTH - LABEL - 60
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(" / ".join(legend))}">'
    ]
    for n, (label, first, second) in enumerate(rows):
        y = n * band
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + BAR + 4}" text-anchor="end" class="label">'
            f"{escape(label)}</text>"
        )
        for k, value in enumerate((first, second)):
            top = y + k * (BAR + 2)
            shown = "—" if value is None else f"{value:.1%}"
            width = 0 if value is None else max(1, round(span * max(0.0, min(1.0, value))))
            parts.append(
                f'<rect x="{LABEL}" y="{top}" width="{width}" height="{BAR}" class="bar{k}">'
                f"<title>{escape(label)} {escape(legend[k])}: {shown}</title></rect>"
                f'<text x="{LABEL + width + 6}" y="{top + BAR - 3}" class="value">{shown}</text>'
            )
    y = len(rows) * band + 14
    parts.append(
        f'<rect x="{LABEL}" y="{y - 10}" width="12" height="12" class="bar0"/>'
        f'<text x="{LABEL + 18}" y="{y}" class="label">{escape(legend[0])}</text>'
        f'<rect x="{LABEL + 200}" y="{y - 10}" width="12" height="12" class="bar1"/>'
        f'<text x="{LABEL + 218}" y="{y}" class="label">{escape(legend[1])}</text></svg>'
    )
    return "".join(parts)
