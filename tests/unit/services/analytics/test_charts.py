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


def test_daily_chart_carries_every_day_from_the_first_download() -> None:
    series = [(dt.date(2026, 1, 1) + dt.timedelta(days=n), n * 1000) for n in range(30)]
    # Day 0 had none: the chart starts on day 1.
    assert values(charts.daily_chart(series, "daily")) == [f"{n * 1000:,}" for n in range(1, 30)]


def test_daily_chart_starts_at_the_first_day_with_downloads() -> None:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(90)]
    series = [(day, 0 if n < 80 else 0 if n == 85 else 4) for n, day in enumerate(days)]
    shown = charts.from_first_download(series)
    assert shown[0] == (days[80], 4)
    assert len(shown) == 10  # a zero after the first download stays
    assert b">2026-01-01<" not in charts.daily_chart(series, "daily")
    assert charts.from_first_download([(days[0], 0), (days[1], 0)]) == []


def test_a_chart_without_downloads_says_so_and_draws_no_axis() -> None:
    series = [(dt.date(2026, 1, 1) + dt.timedelta(days=n), 0) for n in range(30)]
    svg = charts.daily_chart(series, "daily")
    assert b"No downloads yet" in svg
    assert values(svg) == []
    labels = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]  # noqa: S314
    assert "1" not in labels and "0" not in labels


def test_count_axes_are_whole_numbers_without_repeats() -> None:
    assert charts.integer_ticks(0) == [0, 1]
    assert charts.integer_ticks(3) == [0, 1, 2, 3]
    assert charts.integer_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.integer_ticks(48) == [0, 10, 20, 30, 40, 50]
    assert charts.integer_ticks(1234) == [0, 500, 1000, 1500]
    series = [(dt.date(2026, 1, 1) + dt.timedelta(days=n), n % 2) for n in range(10)]
    root = ET.fromstring(charts.daily_chart(series, "daily"))  # noqa: S314
    y_labels = [
        t.text
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "axis y always_show"
        for t in g.iter(f"{SVG}text")
    ]
    assert len(y_labels) == len(set(y_labels)), y_labels


def test_the_narrow_chart_is_drawn_at_a_phone_width() -> None:
    series = [(dt.date(2026, 1, 1) + dt.timedelta(days=n), n + 1) for n in range(30)]
    root = ET.fromstring(charts.daily_chart(series, "daily", charts.NARROW))  # noqa: S314
    assert root.get("viewBox") == "0 0 400 260"


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
