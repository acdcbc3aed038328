"""Pruning raw rows: whole old days only, the rollups untouched."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tests.helpers.download_rollups import MIDNIGHT, TODAY, at, raw_rows, rollups
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics.recorder import store_downloads
from wheelyard.services.analytics.retention import prune_downloads, retention_cutoff


def test_pruning_removes_whole_old_days_of_raw_rows_only(
    db: Session, release_file: ReleaseFile
) -> None:
    cutoff = retention_cutoff(3, today=TODAY)
    assert cutoff == MIDNIGHT - dt.timedelta(days=3)
    store_downloads(
        db,
        [
            at(release_file, cutoff - dt.timedelta(days=1)),
            at(release_file, cutoff - dt.timedelta(microseconds=1)),
            at(release_file, cutoff),
            at(release_file, MIDNIGHT),
        ],
    )
    before = rollups(db)

    assert prune_downloads(db, cutoff, limit=1) == 1
    assert prune_downloads(db, cutoff) == 1
    assert prune_downloads(db, cutoff) == 0

    assert [r.created_date for r in raw_rows(db)] == [cutoff, MIDNIGHT]
    assert rollups(db) == before
