"""The console's SVG charts (central/console/charts.py): every figure is on the chart as text a
screen reader reads, labels are escaped, and the trend's scale follows its data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from central.console.charts import paired_bars, trend

SVG = "{http://www.w3.org/2000/svg}"


def test_paired_bars_carry_each_figure_and_escape_labels() -> None:
    drawn = paired_bars([("<b>社保</b>", 0.75, None)], ("一次办成率", "满意率"))
    root = ET.fromstring(drawn)  # well-formed: an unescaped label would break it
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert titles == ["<b>社保</b> 一次办成率: 75.0%", "<b>社保</b> 满意率: —"]


def test_the_trend_draws_a_point_per_day_and_ratio_on_its_own_scale() -> None:
    days = [("11-02", 120, 0.95, 0.90), ("11-03", 60, 0.88, None), ("11-04", 0, None, None)]
    root = ET.fromstring(trend(days, ("访问", "一次办成率", "满意率")))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert titles == [
        "11-02 访问: 120", "11-03 访问: 60", "11-04 访问: 0",
        "11-02 一次办成率: 95.0%", "11-03 一次办成率: 88.0%", "11-02 满意率: 90.0%",
    ]  # fmt: skip
    bars = [
        float(r.get("height", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.get("class") == "volume" and r.find(f"{SVG}title") is not None
    ]
    assert bars[0] == 2 * bars[1] and bars[2] == 0  # visits to scale
    # The ratio axis starts at the tenth below the lowest value (88% -> 80%), not at 0.
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "80%" in texts and "100%" in texts
    dots = {c.find(f"{SVG}title").text: float(c.get("cy", "0")) for c in root.iter(f"{SVG}circle")}  # type: ignore[union-attr]
    top, bottom = 12, 186  # 100% and 80%
    assert abs(dots["11-02 一次办成率: 95.0%"] - (bottom - (bottom - top) * 0.75)) < 0.1
    assert re.search(r'class="line1"', trend(days, ("a", "b", "c")))


def test_a_trend_of_one_day_is_no_chart() -> None:
    assert trend([("11-02", 5, 1.0, 1.0)], ("a", "b", "c")) == ""
