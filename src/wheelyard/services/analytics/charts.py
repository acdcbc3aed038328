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

import pygal
from pygal.style import Style

from wheelyard.services.analytics.stats import CategoryCount

SVG_MEDIA_TYPE = "image/svg+xml"
_SCRIPT = re.compile(rb"<script\b[^>]*>.*?</script>", re.DOTALL)
# Past this many categories a bar chart is unreadable; the rest are summed as "other".
MAX_BARS = 10
UNKNOWN = "unknown"
_GREEN = "#2f6f4f"
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2327",
    foreground_strong="#1d2327",
    foreground_subtle="#5b6670",
    colors=(_GREEN, "#f4d35e", "#5b6670"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=12,
    tooltip_font_size=12,
)
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


def daily_chart(series: Sequence[tuple[dt.date, int]], title: str) -> bytes:
    """Downloads per day as a filled line, one label a month so the axis stays legible."""
    chart = pygal.Line(
        **_COMMON,
        title=title,
        width=900,
        height=300,
        fill=True,
        # Small dots, but drawn: each carries its value, as the bar charts' bars do.
        dots_size=1.2,
        x_label_rotation=0,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(series) // 6),
        include_x_axis=True,
        min_scale=2,
    )
    chart.x_labels = [day.isoformat() for day, _ in series]
    chart.add("downloads", [count for _, count in series])
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
