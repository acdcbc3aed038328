"""Each project's downloads over the last 30 days, kept as one row per project.

``/stats/`` lists the month's most downloaded projects. Summing ``download_counts`` over 30
days groups one row per project and day: millions at PyPI's size. ``download_recent`` holds
those sums instead, for the 30 days ending on the window's ``last_day``, so the top projects
are the first rows of an index.

Every writer of the rollups calls ``settle_window`` first, in its own transaction: it locks
the window's row (writers take turns, so the window moves in one piece) and, on the first
write of a new UTC day, moves it there, adding the days that enter and taking away the days
that leave, both read from ``download_counts``. The writer then adds its own downloads that
fall inside the window (``add``). So ``download_recent`` always equals ``download_counts``
summed over the window; a window more than 30 days behind is refilled from scratch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.download_count import DownloadCount
from wheelyard.data.download_recent import DownloadRecent, DownloadWindow
from wheelyard.services import clock
from wheelyard.services.analytics import rollup_rows

WINDOW_DAYS = 30
WINDOW_ROW = 1

COUNTS = cast(sa.Table, DownloadCount.__table__)
RECENT = cast(sa.Table, DownloadRecent.__table__)
WINDOW = cast(sa.Table, DownloadWindow.__table__)


def first_day_of(last_day: dt.date) -> dt.date:
    return last_day - dt.timedelta(days=WINDOW_DAYS - 1)


def last_day(db: Session) -> dt.date | None:
    """The day the kept sums end on (no lock: for readers)."""
    return db.scalar(sa.select(WINDOW.c.last_day).where(WINDOW.c.id == WINDOW_ROW))


def settle_window(db: Session) -> tuple[dt.date, dt.date]:
    """Lock the window and move it to today if a day has begun; its first and last day."""
    today = clock.today()
    locked = db.execute(
        sa.select(WINDOW.c.last_day).where(WINDOW.c.id == WINDOW_ROW).with_for_update()
    ).scalar_one_or_none()
    if locked is None:
        # Migration 0008 writes the row; only a database emptied by hand lacks it.
        db.execute(sa.insert(WINDOW).values(id=WINDOW_ROW, last_day=today))
        _refill(db, today)
    elif locked < today:
        if (today - locked).days >= WINDOW_DAYS:
            _refill(db, today)
        else:
            _move(db, locked, today)
        db.execute(sa.update(WINDOW).where(WINDOW.c.id == WINDOW_ROW).values(last_day=today))
    # A clock that went back leaves the window where it is: it only ever moves forward.
    last = max(today, locked) if locked is not None else today
    return first_day_of(last), last


def add(
    db: Session,
    window: tuple[dt.date, dt.date],
    counts: Mapping[tuple[str, dt.date, bool], int],
) -> None:
    """Add (package, day, mirror) counts to the sums, those of days inside ``window`` only."""
    first, last = window
    per_project: dict[tuple[str, bool], int] = {}
    for (package_id, day, mirror), downloads in counts.items():
        if first <= day <= last:
            key = (package_id, mirror)
            per_project[key] = per_project.get(key, 0) + downloads
    rows = [
        {"package_id": p, "is_mirror": m, "downloads": n}
        for (p, m), n in sorted(per_project.items())
        if n
    ]
    rollup_rows.add_downloads(db, RECENT, rows)


def _refill(db: Session, last: dt.date) -> None:
    db.execute(sa.delete(RECENT))
    sums = (
        sa.select(COUNTS.c.package_id, COUNTS.c.is_mirror, sa.func.sum(COUNTS.c.downloads))
        .where(COUNTS.c.day.between(first_day_of(last), last))
        .group_by(COUNTS.c.package_id, COUNTS.c.is_mirror)
    )
    db.execute(sa.insert(RECENT).from_select(["package_id", "is_mirror", "downloads"], sums))


def _move(db: Session, old_last: dt.date, new_last: dt.date) -> None:
    """From the 30 days ending ``old_last`` to those ending ``new_last`` (less than 30 on)."""
    leaving = (first_day_of(old_last), first_day_of(new_last) - dt.timedelta(days=1))
    entering = (old_last + dt.timedelta(days=1), new_last)
    delta = sa.func.sum(
        sa.case((COUNTS.c.day > old_last, COUNTS.c.downloads), else_=-COUNTS.c.downloads)
    )
    changes = (
        sa.select(COUNTS.c.package_id, COUNTS.c.is_mirror, delta)
        .where(sa.or_(COUNTS.c.day.between(*leaving), COUNTS.c.day.between(*entering)))
        .group_by(COUNTS.c.package_id, COUNTS.c.is_mirror)
        .having(delta != 0)
    )
    rollup_rows.add_downloads_from(db, RECENT, ["package_id", "is_mirror", "downloads"], changes)
    drop_empty(db)


def drop_empty(db: Session) -> None:
    """Projects not downloaded in the window have no row rather than a row of zero."""
    # Spelled so that the top-projects index (is_mirror, downloads...) finds them.
    db.execute(
        sa.delete(RECENT).where(RECENT.c.is_mirror.in_([False, True]), RECENT.c.downloads == 0)
    )
