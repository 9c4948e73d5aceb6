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


def trend(
    points: list[tuple[str, int, float | None, float | None]], legend: tuple[str, str, str]
) -> str:
    """Day by day: visits as pale bars (their own scale) and two ratios as lines, e.g.
    一次办成率 and 满意率. The ratios' axis starts at the tenth below their lowest value, so a
    drop from 95% to 88% shows; its bounds are written on the axis."""
    if len(points) < 2:
        return ""
    height, top, bottom, left, right = 236, 12, 186, 48, 16
    span_x, span_y = WIDTH - left - right, bottom - top
    ratios = [v for _, _, a, b in points for v in (a, b) if v is not None]
    floor = min(0.9, int(min(ratios, default=0.9) * 10) / 10)
    most = max(1, *(n for _, n, _, _ in points))
    step = span_x / len(points)

    def y_of(value: float) -> float:
        return bottom - span_y * (value - floor) / (1 - floor)

    parts = [
        f'<svg class="chart trend" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(" / ".join(legend))}">',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" class="axis"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - right}" y2="{bottom}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="value">100%</text>',
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end" class="value">{floor:.0%}</text>',
    ]
    for n, (day, visits, _, _) in enumerate(points):
        tall = span_y * visits / most
        parts.append(
            f'<rect x="{left + n * step + 1:.1f}" y="{bottom - tall:.1f}" '
            f'width="{max(1.0, step - 2):.1f}" height="{tall:.1f}" class="volume">'
            f"<title>{escape(day)} {escape(legend[0])}: {visits:,}</title></rect>"
        )
    for k in (0, 1):
        line = []
        for n, (day, _, first, second) in enumerate(points):
            value = (first, second)[k]
            if value is None:
                continue
            x, y = left + (n + 0.5) * step, y_of(value)
            line.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="dot{k}">'
                f"<title>{escape(day)} {escape(legend[1 + k])}: {value:.1%}</title></circle>"
            )
        if line:
            parts.append(f'<polyline points="{" ".join(line)}" class="line{k}"/>')
    for n in (0, len(points) - 1):
        anchor = "start" if n == 0 else "end"
        x = left if n == 0 else WIDTH - right
        parts.append(
            f'<text x="{x}" y="{bottom + 16}" text-anchor="{anchor}" class="value">'
            f"{escape(points[n][0])}</text>"
        )
    y = height - 6
    for k, (css, label) in enumerate(zip(("volume", "bar0", "bar1"), legend, strict=True)):
        x = left + k * 190
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" class="{css}"/>'
            f'<text x="{x + 18}" y="{y}" class="label">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
