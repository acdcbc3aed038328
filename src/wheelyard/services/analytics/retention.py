"""Pruning raw download rows older than the retention period (``wheelyard stats prune``).

Stats read the rollups only, so raw rows are needed just long enough to rebuild recent
days from; the rollups keep the counts forever. Pruning takes whole UTC days, so the oldest
day left is complete and a rebuild (services.analytics.rebuild) can trust it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.download import Download
from wheelyard.services import clock

DOWNLOADS = cast(sa.Table, Download.__table__)


def retention_cutoff(retention_days: int, today: dt.date | None = None) -> dt.datetime:
    """Where pruning stops: the start of the oldest UTC day kept."""
    today = today if today is not None else clock.today()
    return clock.start_of(today - dt.timedelta(days=retention_days))


def prune_downloads(db: Session, before: dt.datetime, limit: int = 50_000) -> int:
    """Delete up to ``limit`` raw rows older than ``before``; returns how many went.

    A limit, so that a caller can commit as it goes and never hold the write lock long.
    Rollups are untouched: they keep the counts forever.
    """
    oldest = (
        sa.select(DOWNLOADS.c.id)
        .where(DOWNLOADS.c.created_date < before)
        .order_by(DOWNLOADS.c.created_date)
        .limit(limit)
    )
    result = db.execute(sa.delete(DOWNLOADS).where(DOWNLOADS.c.id.in_(oldest.scalar_subquery())))
    return cast(sa.CursorResult[Any], result).rowcount
