"""Download charts as standalone SVG documents, drawn by pygal.

Each chart is its own SVG file that pages embed with ``<img>``: an image document runs no
script and its styles stay inside it, so the site's Content-Security-Policy needs no
exception for inline styles, and pygal's own styling is kept whole. pygal's tooltip script is
left out (``js=[]``); the numbers are in the table beneath every chart, and each value also
stays in the SVG as a ``<desc class="value">``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import NamedTuple

import pygal
from pygal.style import Style

from wheelyard.services.analytics.stats import CategoryCount

SVG_MEDIA_TYPE = "image/svg+xml"
_SCRIPT = re.compile(rb"<script\b[^>]*>.*?</script>", re.DOTALL)
# Past this many categories a bar chart is unreadable; the rest are summed as "other".
MAX_BARS = 10
UNKNOWN = "unknown"
_GREEN = "#2f6f4f"
# Gridlines that guide the eye without competing with the line.
_GRID = "#e4e9ed"


def _style(font_size: int = 12) -> Style:
    return Style(
        guide_stroke_color=_GRID,
        major_guide_stroke_color=_GRID,
        background="transparent",
        plot_background="transparent",
        foreground="#1d2327",
        foreground_strong="#1d2327",
        foreground_subtle="#5b6670",
        colors=(_GREEN, "#f4d35e", "#5b6670"),
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        label_font_size=font_size,
        major_label_font_size=font_size,
        value_font_size=font_size,
        tooltip_font_size=font_size,
        title_font_size=font_size + 2,
        no_data_font_size=font_size + 4,
    )


_STYLE = _style()
_COMMON = {
    "style": _STYLE,
    "js": [],
    "show_legend": False,
    "margin": 10,
    "truncate_label": -1,  # pygal cuts labels to a few letters by default
    "value_formatter": lambda value: f"{value:,.0f}",
}


def _without_scripts(svg: bytes) -> bytes:
    # pygal writes its configuration in a <script> even with js=[]; nothing here runs it.
    return _SCRIPT.sub(b"", svg)


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    return _without_scripts(chart.render(is_unicode=False))


class ChartSize(NamedTuple):
    """An SVG's own size; its text is drawn at this scale, so a phone gets a narrow one
    rather than a wide one shrunk until the labels cannot be read."""

    width: int
    height: int
    font_size: int
    x_labels: int


WIDE = ChartSize(width=900, height=300, font_size=12, x_labels=6)
NARROW = ChartSize(width=400, height=260, font_size=13, x_labels=3)


def from_first_download(series: Sequence[tuple[dt.date, int]]) -> list[tuple[dt.date, int]]:
    """The series from its first day with downloads: a project published last week has no
    months of zeros before it. Empty when there were no downloads at all."""
    for start, (_day, count) in enumerate(series):
        if count:
            return list(series[start:])
    return []


def integer_ticks(highest: int) -> list[int]:
    """Whole-number labels for a count axis, about five of them, on a 1-2-5 step.

    pygal's own ticks are fractions for small counts, which the whole-number formatter
    then prints as "0 0 0 1 1 1".
    """
    if highest <= 5:
        return list(range(max(highest, 1) + 1))
    rough = highest / 5
    magnitude = 10 ** (len(str(int(rough))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    top = -(-highest // step) * step
    return list(range(0, top + 1, step))


def daily_chart(series: Sequence[tuple[dt.date, int]], title: str, size: ChartSize = WIDE) -> bytes:
    """Downloads per day as a filled line from the first day with any, a few date labels so
    the axis stays legible. With no downloads at all, a chart that says so."""
    shown = from_first_download(series)
    chart = pygal.Line(
        **{**_COMMON, "style": _style(size.font_size)},
        title=title,
        width=size.width,
        height=size.height,
        fill=True,
        # Small dots, but drawn: each carries its value, as the bar charts' bars do.
        dots_size=1.2,
        x_label_rotation=0,
        show_minor_x_labels=False,
        # None without data: pygal would count labels there are none of.
        x_labels_major_every=max(1, len(shown) // size.x_labels) if shown else None,
        include_x_axis=True,
        # Without data pygal would still draw a 0-1 axis, read as "0 0 0 1 1 1".
        show_y_labels=bool(shown),
        show_y_guides=bool(shown),
        no_data_text="No downloads yet",
    )
    if shown:
        chart.x_labels = [day.isoformat() for day, _ in shown]
        chart.y_labels = integer_ticks(max(count for _, count in shown))
        chart.add("downloads", [count for _, count in shown])
    return _svg(chart)


def top_categories(counts: Sequence[CategoryCount], limit: int = MAX_BARS) -> list[CategoryCount]:
    """The ``limit`` biggest categories, the rest summed as "other"; unnamed ones as "unknown"."""
    named = [CategoryCount(row.category or UNKNOWN, row.downloads) for row in counts]
    if len(named) <= limit:
        return named
    rest = sum(row.downloads for row in named[limit - 1 :])
    return [*named[: limit - 1], CategoryCount("other", rest)]


def breakdown_chart(counts: Sequence[CategoryCount], title: str) -> bytes:
    """Downloads by category as horizontal bars, biggest on top."""
    rows = top_categories(counts)
    chart = pygal.HorizontalBar(
        **_COMMON,
        title=title,
        width=600,
        height=max(160, 60 + 32 * len(rows)),
        print_values=True,
        print_values_position="top",
    )
    # pygal draws the first label at the bottom: reversed, the biggest is on top.
    chart.x_labels = [row.category or UNKNOWN for row in reversed(rows)]
    chart.add("downloads", [row.downloads for row in reversed(rows)])
    return _svg(chart)


def sparkline(counts: Sequence[int]) -> bytes:
    """A small line of recent daily downloads for the project page."""
    chart = pygal.Line(**_COMMON, fill=True, show_dots=False)
    chart.add("downloads", list(counts))
    return _without_scripts(chart.render_sparkline(width=160, height=36, is_unicode=False))
