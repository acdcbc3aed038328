"""Charts: standalone SVG documents that carry their values and run nothing."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from wheelyard.services.analytics import charts
from wheelyard.services.analytics.stats import CategoryCount

SVG = "{http://www.w3.org/2000/svg}"


def values(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # noqa: S314 - our own chart
    assert root.tag == f"{SVG}svg"
    return [d.text or "" for d in root.iter(f"{SVG}desc") if d.get("class") == "value"]


def test_charts_have_no_script() -> None:
    series = [(dt.date(2026, 1, 1) + dt.timedelta(days=n), n) for n in range(10)]
    for svg in (
        charts.daily_chart(series, "daily"),
        charts.breakdown_chart([CategoryCount("pip", 3)], "installers"),
        charts.sparkline([1, 2, 3]),
    ):
        assert b"<script" not in svg
        ET.fromstring(svg)  # noqa: S314 - still well-formed without it


def test_daily_chart_carries_every_day() -> None:
    series = [(dt.date(2026, 1, 1) + dt.timedelta(days=n), n * 1000) for n in range(30)]
    assert values(charts.daily_chart(series, "daily")) == [f"{n * 1000:,}" for n in range(30)]


def test_breakdown_chart_puts_the_biggest_on_top() -> None:
    svg = charts.breakdown_chart([CategoryCount("3.12", 7), CategoryCount(None, 2)], "python")
    # pygal draws the first value at the bottom.
    assert values(svg) == ["2", "7"]
    assert b">unknown<" in svg


def test_many_categories_end_in_other() -> None:
    counts = [CategoryCount(f"1.{n}", 100 - n) for n in range(15)]
    top = charts.top_categories(counts, limit=5)
    assert [row.category for row in top] == ["1.0", "1.1", "1.2", "1.3", "other"]
    assert sum(row.downloads for row in top) == sum(row.downloads for row in counts)
