"""Recomputing the rollups of whole UTC days from their raw rows.

For data that arrived another way than through the recorder (imports, rows stored before
the rollups existed), and to repair counts by hand (``wheelyard stats rebuild``). A rebuilt
day equals what the recorder would have counted, since both add through
``rollups.add_to_rollups``. Days older than the oldest raw row are never rebuilt: their raw
rows have been pruned (services.analytics.retention), and the rollups alone remember them.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.download import Download
from wheelyard.services import clock
from wheelyard.services.analytics import recent
from wheelyard.services.analytics.classification import classify_raw_rows
from wheelyard.services.analytics.rollups import (
    BREAKDOWNS,
    COUNTS,
    DIMENSION_COLUMNS,
    MONTHS,
    TOTALS,
    add_to_months,
    add_to_rollups,
    month_of,
)

DOWNLOADS = cast(sa.Table, Download.__table__)


def raw_day_range(db: Session) -> tuple[dt.date, dt.date] | None:
    """The first and last UTC day that has raw rows, or None when there are none."""
    first, last = db.execute(
        sa.select(sa.func.min(DOWNLOADS.c.created_date), sa.func.max(DOWNLOADS.c.created_date))
    ).one()
    if first is None or last is None:
        return None
    return first.date(), last.date()


def rebuild_days(
    db: Session, since: dt.date | None = None, until: dt.date | None = None
) -> list[dt.date]:
    """The days a rebuild from ``since`` recomputes, oldest first.

    Never a day before the oldest raw row: older days' raw rows have been pruned, and
    recomputing them would wipe counts that exist only in the rollups.
    """
    found = raw_day_range(db)
    if found is None:
        return []
    first, last = found
    start = max(since, first) if since is not None else first
    end = until if until is not None else max(last, clock.today())
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def rebuild_rollups(db: Session, since: dt.date | None = None, until: dt.date | None = None) -> int:
    """Recompute the rollups of every day from ``since`` (default: the oldest raw row).

    Returns the number of raw rows counted. All in ``db``'s transaction; the CLI commits
    ``rebuild_day`` by day instead, so the recorder is never held up for long.
    """
    return sum(rebuild_day(db, day) for day in rebuild_days(db, since, until))


def rebuild_day(db: Session, day: dt.date) -> int:
    """Replace one UTC day's rollups with counts of its raw rows; returns how many rows.

    It reads before it writes, so on SQLite ``db`` must hold the write lock from its start
    (``db_session.transaction`` with ``writes``, as the CLI's is): a deferred transaction
    that had read before a flush committed could not take the lock afterwards.
    """
    # The window's lock before the tables': the order every writer takes them in.
    window = recent.settle_window(db)
    _hold_off_recorders(db)
    old_counts = db.execute(
        sa.select(COUNTS.c.package_id, COUNTS.c.is_mirror, COUNTS.c.downloads).where(
            COUNTS.c.day == day
        )
    )
    recent.add(db, window, {(p, day, bool(m)): -n for p, m, n in old_counts})
    db.execute(sa.delete(COUNTS).where(COUNTS.c.day == day))
    db.execute(sa.delete(TOTALS).where(TOTALS.c.day == day))
    _take_day_from_months(db, day)
    db.execute(sa.delete(BREAKDOWNS).where(BREAKDOWNS.c.day == day))
    start = clock.start_of(day)
    in_day = sa.and_(
        DOWNLOADS.c.created_date >= start,
        DOWNLOADS.c.created_date < start + dt.timedelta(days=1),
    )
    classify_raw_rows(db, in_day)
    # One scan of the day, grouped by every category at once: a few hundred groups to count
    # in Python rather than one scan per rollup table and dimension.
    categories = [DOWNLOADS.c[column] for column in ("package_id", *DIMENSION_COLUMNS.values())]
    grouped = db.execute(
        sa.select(*categories, DOWNLOADS.c.is_mirror, sa.func.count())
        .where(in_day)
        .group_by(*categories, DOWNLOADS.c.is_mirror)
    ).all()
    add_to_rollups(db, (({**row._mapping, "created_date": start}, row[-1]) for row in grouped))
    # Categories the day no longer has leave rows of zero in its month, projects in the window.
    db.execute(sa.delete(MONTHS).where(MONTHS.c.month == month_of(day), MONTHS.c.downloads == 0))
    recent.drop_empty(db)
    return sum(row[-1] for row in grouped)


def _take_day_from_months(db: Session, day: dt.date) -> None:
    """Subtract one day's breakdown rows from its month, before they are replaced."""
    b = BREAKDOWNS.c
    old = db.execute(
        sa.select(b.package_id, b.dimension, b.category, b.is_mirror, b.downloads).where(
            b.day == day
        )
    )
    add_to_months(db, {(p, dim, day, c, bool(m)): -n for p, dim, c, m, n in old})


def _hold_off_recorders(db: Session) -> None:
    """Make concurrent flushes wait until this transaction ends (PostgreSQL).

    A flush that committed between our reading the raw rows and our replacing the rollups
    would be lost (its upsert deleted, its rows unread) or counted twice. Held off, it
    commits after us and adds its downloads to the counts we wrote; meanwhile downloads
    queue in memory. SQLite needs nothing: our first write takes its only write lock.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            sa.text(
                "LOCK TABLE download_counts, download_breakdowns, download_breakdown_months,"
                " download_totals, download_recent IN SHARE ROW EXCLUSIVE MODE"
            )
        )
