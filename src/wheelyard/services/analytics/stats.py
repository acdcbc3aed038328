"""Download statistics for the stats pages and the JSON stats API, read from the rollups only.

Days are UTC calendar days. A period of N days ends today, today included, so a download
shows up in every figure within a second of being served: ``last_day`` is today so far,
``last_week`` the last 7 days, ``last_month`` the last 30. Unless asked otherwise, figures
leave out mirrors (bandersnatch, devpi, Artifactory...), as pypistats.org's do: a mirror
copying every file is not a user. ``today`` parameters exist for tests and reports.

Every function reads ``download_counts`` or ``download_breakdowns`` by (project, day range):
one project's figures cost the same however many downloads it has. The site's figures read
its daily totals (``download_totals``), and the month's top projects the 30-day sums kept
per project (``download_recent``, see services.analytics.recent). A breakdown's total over
a period reads whole months from ``download_breakdown_months`` and only the days at the
period's ends from the daily rows (``month_spans``), so a project with a thousand versions
costs tens of rows per version rather than one per day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.download_breakdown import Dimension, DownloadBreakdown, DownloadBreakdownMonth
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.download_recent import DownloadRecent
from wheelyard.data.download_total import DownloadTotal
from wheelyard.data.package import Package, Visibility
from wheelyard.services import clock
from wheelyard.services.analytics import recent as recent_downloads
from wheelyard.services.analytics.rollups import month_of

DAY, WEEK, MONTH = 1, 7, 30
# pypistats.org keeps 180 days of time series; so do the API and the default chart.
SERIES_DAYS = 180


class RecentDownloads(NamedTuple):
    last_day: int
    last_week: int
    last_month: int


class CategoryCount(NamedTuple):
    """Downloads of one category (a version, "3.11", "pip"...); None = the client did not say."""

    category: str | None
    downloads: int


class DailyCategoryCount(NamedTuple):
    day: dt.date
    category: str | None
    downloads: int


class ProjectDownloads(NamedTuple):
    package_id: str
    name: str
    downloads: int


def first_day(days: int, today: dt.date | None = None) -> dt.date:
    """The first day of the ``days``-day period that ends with ``today``."""
    if days < 1:
        raise ValueError(f"a period is at least one day, not {days}")
    return (today or clock.today()) - dt.timedelta(days=days - 1)


# --- totals -----------------------------------------------------------------------------------


def _counts(
    package_id: str | None, since: dt.date | None, mirrors: bool
) -> tuple[type[DownloadCount] | type[DownloadTotal], list[sa.ColumnElement[bool]]]:
    """The table to read and the conditions: one project's rows, or the site's daily totals
    when ``package_id`` is None (rather than every project's rows)."""
    table: type[DownloadCount] | type[DownloadTotal] = DownloadTotal
    conditions: list[sa.ColumnElement[bool]] = []
    if package_id is not None:
        table = DownloadCount
        conditions.append(DownloadCount.package_id == package_id)
    if since is not None:
        conditions.append(table.day >= since)
    if not mirrors:
        conditions.append(table.is_mirror.is_(False))
    return table, conditions


def _per_day(
    db: Session,
    rows: tuple[type[DownloadCount] | type[DownloadTotal], list[sa.ColumnElement[bool]]],
    until: dt.date | None = None,
) -> dict[dt.date, int]:
    table, conditions = rows
    if until is not None:
        conditions = [*conditions, table.day <= until]
    query = (
        sa.select(table.day, sa.func.sum(table.downloads)).where(*conditions).group_by(table.day)
    )
    # PostgreSQL sums BIGINTs into NUMERIC (Decimal): make every count an int.
    return {day: int(n) for day, n in db.execute(query)}


def _public_per_day(
    db: Session, since: dt.date | None, until: dt.date | None, mirrors: bool
) -> dict[dt.date, int]:
    """The site's downloads per day, less those of private projects.

    The site's daily totals count every download, but what ``/stats/`` shows everyone must
    not move with a private project's installs: to anyone without a role the project does
    not exist. Private projects are few on a public index and their rows are read by
    (project, day), so taking them out costs rows per private project and day.
    """
    per_day = _per_day(db, _counts(None, since, mirrors), until)
    private = _private_counts(since, mirrors)
    for day, n in _per_day(db, private, until).items():
        per_day[day] = per_day.get(day, 0) - n
    return per_day


def _private_counts(
    since: dt.date | None, mirrors: bool
) -> tuple[type[DownloadCount], list[sa.ColumnElement[bool]]]:
    private_ids = sa.select(Package.id).where(Package.visibility == Visibility.PRIVATE)
    conditions: list[sa.ColumnElement[bool]] = [
        DownloadCount.package_id.in_(private_ids.scalar_subquery())
    ]
    if since is not None:
        conditions.append(DownloadCount.day >= since)
    if not mirrors:
        conditions.append(DownloadCount.is_mirror.is_(False))
    return DownloadCount, conditions


def recent(
    db: Session,
    package_id: str | None,
    *,
    mirrors: bool = False,
    today: dt.date | None = None,
) -> RecentDownloads:
    """Downloads today, in the last 7 and in the last 30 days; ``package_id`` None = all
    public projects."""
    today = today or clock.today()
    since = first_day(MONTH, today)
    if package_id is None:
        per_day = _public_per_day(db, since, None, mirrors)
    else:
        per_day = _per_day(db, _counts(package_id, since, mirrors))

    def within(days: int) -> int:
        start = first_day(days, today)
        return sum(n for day, n in per_day.items() if start <= day <= today)

    return RecentDownloads(within(DAY), within(WEEK), within(MONTH))


def total(db: Session, package_id: str | None, *, mirrors: bool = False) -> int:
    """Every download ever counted; ``package_id`` None = the whole index's public projects.

    Reads one row per day with downloads (two for the whole index, mirrors apart).
    """
    if package_id is None:
        return sum(_public_per_day(db, None, None, mirrors).values())
    table, conditions = _counts(package_id, None, mirrors)
    found = db.scalar(sa.select(sa.func.sum(table.downloads)).where(*conditions))
    return int(found or 0)


def daily(
    db: Session,
    package_id: str | None,
    days: int = SERIES_DAYS,
    mirrors: bool = False,
    *,
    today: dt.date | None = None,
) -> list[tuple[dt.date, int]]:
    """Downloads per day for the ``days`` days ending today, oldest first, zero-filled."""
    today = today or clock.today()
    since = first_day(days, today)
    if package_id is None:
        found = _public_per_day(db, since, today, mirrors)
    else:
        found = _per_day(db, _counts(package_id, since, mirrors), until=today)
    return [(day, found.get(day, 0)) for day in (since + dt.timedelta(days=n) for n in range(days))]


def top_projects(
    db: Session,
    limit: int = 10,
    *,
    days: int = MONTH,
    mirrors: bool = False,
    today: dt.date | None = None,
) -> list[ProjectDownloads]:
    """The most downloaded projects of the last ``days`` days, most first, ties by name.

    The last 30 days up to today, mirrors left out (what ``/stats/`` shows), come from the
    sums kept in ``download_recent`` once a download today has moved its window here;
    other periods sum ``download_counts``, one row per project and day.
    """
    today = today or clock.today()
    if (
        days == recent_downloads.WINDOW_DAYS
        and not mirrors
        and today == clock.today()
        and recent_downloads.last_day(db) == today
    ):
        kept = (
            sa.select(DownloadRecent.package_id, Package.name, DownloadRecent.downloads)
            .join(Package, Package.id == DownloadRecent.package_id)
            .where(
                DownloadRecent.is_mirror.is_(False),
                DownloadRecent.downloads > 0,
                Package.visibility == Visibility.PUBLIC,
            )
            .order_by(DownloadRecent.downloads.desc(), DownloadRecent.package_id)
            .limit(limit)
        )
        return [ProjectDownloads(p, name, int(n)) for p, name, n in db.execute(kept)]
    downloads = sa.func.sum(DownloadCount.downloads).label("downloads")
    query = (
        sa.select(DownloadCount.package_id, Package.name, downloads)
        .join(Package, Package.id == DownloadCount.package_id)
        .where(
            DownloadCount.day.between(first_day(days, today), today),
            Package.visibility == Visibility.PUBLIC,
            *([] if mirrors else [DownloadCount.is_mirror.is_(False)]),
        )
        .group_by(DownloadCount.package_id, Package.name)
        .order_by(downloads.desc(), DownloadCount.package_id)
        .limit(limit)
    )
    return [ProjectDownloads(p, name, int(n)) for p, name, n in db.execute(query)]


# --- breakdowns -------------------------------------------------------------------------------


def _breakdown_conditions(
    package_id: str, dimension: Dimension, days: int, mirrors: bool, today: dt.date | None
) -> list[sa.ColumnElement[bool]]:
    today = today or clock.today()
    conditions = [
        DownloadBreakdown.package_id == package_id,
        DownloadBreakdown.dimension == dimension.value,
        DownloadBreakdown.day >= first_day(days, today),
        DownloadBreakdown.day <= today,
    ]
    if not mirrors:
        conditions.append(DownloadBreakdown.is_mirror.is_(False))
    return conditions


def _ranked(counts: Iterable[tuple[str | None, int]]) -> list[CategoryCount]:
    totals: Counter[str | None] = Counter()
    for category, downloads in counts:
        totals[category] += downloads
    # Most downloads first; ties by name, "unknown" (None) last.
    return [
        CategoryCount(category, n)
        for category, n in sorted(
            totals.items(), key=lambda item: (-item[1], item[0] is None, item[0] or "")
        )
        if n
    ]


class Span(NamedTuple):
    """Days ``first`` to ``last`` read from the daily rows, or the month that starts on
    ``first`` from the monthly rows; added (``sign`` 1) or taken away (-1)."""

    whole_month: bool
    first: dt.date
    last: dt.date
    sign: int


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _days_read(first: dt.date, last: dt.date, now: dt.date) -> int:
    """Daily rows per category a read of ``first``..``last`` costs: days after ``now`` have
    none yet."""
    return max(0, (min(last, now) - first).days + 1)


def month_spans(first: dt.date, last: dt.date, now: dt.date | None = None) -> list[Span]:
    """What to read for the days ``first`` to ``last``, as few rows per category as can be.

    A month wholly inside is one monthly row. A month the period cuts is either its days
    inside, or its monthly row less its days outside, whichever reads fewer daily rows
    (``now``, today by default, counts the days that can have rows): a period that ends
    today takes this month's row whole, since no later day has any downloads yet.
    """
    now = now or clock.today()
    spans: list[Span] = []
    month = month_of(first)
    while month <= last:
        following = _next_month(month)
        month_last = following - dt.timedelta(days=1)
        start, end = max(first, month), min(last, month_last)
        before = [(month, start - dt.timedelta(days=1))] if start > month else []
        after = [(end + dt.timedelta(days=1), month_last)] if end < month_last else []
        outside = before + after
        cost_outside = 1 + sum(_days_read(a, b, now) for a, b in outside)
        if not outside or cost_outside < _days_read(start, end, now):
            spans.append(Span(True, month, month, 1))
            spans.extend(Span(False, a, b, -1) for a, b in outside)
        else:
            spans.append(Span(False, start, end, 1))
        month = following
    return spans


def _span_rows(
    package_id: str, dimension: Dimension, mirrors: bool, span: Span
) -> sa.Select[str, int]:
    table = DownloadBreakdownMonth if span.whole_month else DownloadBreakdown
    when = (
        DownloadBreakdownMonth.month == span.first
        if span.whole_month
        else DownloadBreakdown.day.between(span.first, span.last)
    )
    conditions = [table.package_id == package_id, table.dimension == dimension.value, when]
    if not mirrors:
        conditions.append(table.is_mirror.is_(False))
    downloads = table.downloads if span.sign > 0 else -table.downloads
    return sa.select(table.category.label("category"), downloads.label("downloads")).where(
        *conditions
    )


def breakdown(
    db: Session,
    package_id: str,
    dimension: Dimension,
    *,
    days: int = MONTH,
    mirrors: bool = False,
    today: dt.date | None = None,
) -> list[CategoryCount]:
    """Downloads of the last ``days`` days by one dimension's category, most first.

    ``Dimension.VERSION`` keeps counting versions whose release has since been deleted;
    ``Dimension.PYTHON`` is by minor version ("3.11"), see ``by_python_major`` for "3".
    """
    today = today or clock.today()
    spans = month_spans(first_day(days, today), today)
    parts = sa.union_all(*(_span_rows(package_id, dimension, mirrors, span) for span in spans))
    rows = parts.subquery()
    query = sa.select(rows.c.category, sa.func.sum(rows.c.downloads)).group_by(rows.c.category)
    return _ranked((category or None, int(n)) for category, n in db.execute(query))


def by_python_major(
    db: Session,
    package_id: str,
    *,
    days: int = MONTH,
    mirrors: bool = False,
    today: dt.date | None = None,
) -> list[CategoryCount]:
    """By Python major version ("3"), from the minor versions' rows."""
    minors = breakdown(db, package_id, Dimension.PYTHON, days=days, mirrors=mirrors, today=today)
    return _ranked((python_major(category), n) for category, n in minors)


def daily_breakdown(
    db: Session,
    package_id: str,
    dimension: Dimension,
    *,
    days: int = SERIES_DAYS,
    mirrors: bool = False,
    today: dt.date | None = None,
) -> list[DailyCategoryCount]:
    """Downloads per day and category, by day then category; days without any are absent."""
    query = (
        sa.select(
            DownloadBreakdown.day,
            DownloadBreakdown.category,
            sa.func.sum(DownloadBreakdown.downloads),
        )
        .where(*_breakdown_conditions(package_id, dimension, days, mirrors, today))
        .group_by(DownloadBreakdown.day, DownloadBreakdown.category)
    )
    return _by_day_and_category(
        DailyCategoryCount(day, category or None, int(n))
        for day, category, n in db.execute(query)
        if n
    )


def daily_python_major(
    db: Session,
    package_id: str,
    *,
    days: int = SERIES_DAYS,
    mirrors: bool = False,
    today: dt.date | None = None,
) -> list[DailyCategoryCount]:
    """``daily_breakdown`` by Python major version ("3"), from the minor versions' rows."""
    totals: Counter[tuple[dt.date, str | None]] = Counter()
    minors = daily_breakdown(
        db, package_id, Dimension.PYTHON, days=days, mirrors=mirrors, today=today
    )
    for day, category, downloads in minors:
        totals[day, python_major(category)] += downloads
    return _by_day_and_category(
        DailyCategoryCount(day, category, n) for (day, category), n in totals.items()
    )


def _by_day_and_category(rows: Iterable[DailyCategoryCount]) -> list[DailyCategoryCount]:
    return sorted(rows, key=lambda row: (row.day, row.category is None, row.category or ""))


def python_major(minor: str | None) -> str | None:
    return minor.split(".", 1)[0] if minor else None
