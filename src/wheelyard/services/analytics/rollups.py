"""The daily rollups every stats page reads, and adding downloads to them.

Stats never scan raw rows. What they read is counted here, from raw rows aggregated in
Python first, so a batch of thousands of downloads touches a few rollup rows: the counts
per project and day (``download_counts``), per category of each dimension
(``download_breakdowns``) and those by month (``download_breakdown_months``), the site's
totals (``download_totals``) and the 30-day sums of ``download_recent``. The recorder and
the rebuild both count through ``add_to_rollups``, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.download_breakdown import Dimension, DownloadBreakdown, DownloadBreakdownMonth
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.download_total import DownloadTotal
from wheelyard.services.analytics import recent, rollup_rows

COUNTS = cast(sa.Table, DownloadCount.__table__)
BREAKDOWNS = cast(sa.Table, DownloadBreakdown.__table__)
MONTHS = cast(sa.Table, DownloadBreakdownMonth.__table__)
TOTALS = cast(sa.Table, DownloadTotal.__table__)
# The raw column each breakdown dimension counts by.
DIMENSION_COLUMNS = {
    Dimension.VERSION: "version",
    Dimension.PACKAGETYPE: "packagetype",
    Dimension.INSTALLER: "installer",
    Dimension.PYTHON: "python_minor",
    Dimension.SYSTEM: "system",
}
DIMENSION_NAMES = tuple(dimension.value for dimension in DIMENSION_COLUMNS)
_categories_of = operator.itemgetter("package_id", *DIMENSION_COLUMNS.values())

# A breakdown's key: (package_id, dimension, day or month, category, is_mirror).
BreakdownKey = tuple[str, str, dt.date, str, bool]


def add_to_rollups(db: Session, rows: Iterable[tuple[Mapping[str, Any], int]]) -> None:
    """Add ``(raw row, how many such downloads)`` pairs to the daily rollups, by upsert."""
    # First, as every writer does: it may move the 30-day window, and it makes concurrent
    # writers take turns (see services.analytics.recent).
    window = recent.settle_window(db)
    # Downloads of one batch share a few combinations of categories: count those first, so
    # the per-dimension counting below runs per combination, not per download.
    combinations: Counter[tuple[Any, ...]] = Counter()
    for row, downloads in rows:
        day, mirror = row["created_date"].date(), bool(row["is_mirror"])
        combinations[(day, mirror, *_categories_of(row))] += downloads
    totals: Counter[tuple[str, dt.date, bool]] = Counter()
    breakdowns: Counter[BreakdownKey] = Counter()
    for (day, mirror, package_id, *values), downloads in combinations.items():
        totals[package_id, day, mirror] += downloads
        for dimension, value in zip(DIMENSION_NAMES, values, strict=True):
            breakdowns[package_id, dimension, day, value or "", mirror] += downloads
    site: Counter[tuple[dt.date, bool]] = Counter()
    for (_package_id, day, mirror), downloads in totals.items():
        site[day, mirror] += downloads
    # Sorted keys: workers flushing at once lock rollup rows in the same order, so on
    # PostgreSQL they wait for each other instead of deadlocking.
    rollup_rows.add_downloads(
        db,
        TOTALS,
        [{"day": d, "is_mirror": m, "downloads": n} for (d, m), n in sorted(site.items())],
    )
    recent.add(db, window, totals)
    rollup_rows.add_downloads(
        db,
        COUNTS,
        [
            {"package_id": p, "day": d, "is_mirror": m, "downloads": n}
            for (p, d, m), n in sorted(totals.items())
        ],
    )
    rollup_rows.add_downloads(
        db,
        BREAKDOWNS,
        [
            {
                "package_id": p,
                "dimension": dim,
                "day": d,
                "category": c,
                "is_mirror": m,
                "downloads": n,
            }
            for (p, dim, d, c, m), n in sorted(breakdowns.items())
        ],
    )
    add_to_months(db, breakdowns)


def month_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s month: the key of its ``download_breakdown_months`` row."""
    return day.replace(day=1)


def add_to_months(db: Session, breakdowns: Mapping[BreakdownKey, int]) -> None:
    """Add daily breakdown counts (negative ones take away) to their months' rows."""
    months: Counter[BreakdownKey] = Counter()
    for (package_id, dimension, day, category, mirror), downloads in breakdowns.items():
        months[package_id, dimension, month_of(day), category, mirror] += downloads
    rollup_rows.add_downloads(
        db,
        MONTHS,
        [
            {
                "package_id": p,
                "dimension": dim,
                "month": month,
                "category": c,
                "is_mirror": m,
                "downloads": n,
            }
            for (p, dim, month, c, m), n in sorted(months.items())
            if n
        ],
    )
