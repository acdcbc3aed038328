"""Rebuilding days' rollups from raw rows: the same counts the recorder added, never a day
whose raw rows were pruned."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.download_rollups import (
    BANDERSNATCH,
    MIDNIGHT,
    PIP,
    TODAY,
    UV,
    at,
    clear_rollups,
    months,
    raw_rows,
    rollups,
)
from tests.helpers.factories import Factory
from wheelyard.data.download import Download
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics.classification import unclassified_before
from wheelyard.services.analytics.rebuild import rebuild_day, rebuild_days, rebuild_rollups
from wheelyard.services.analytics.recorder import store_downloads
from wheelyard.services.analytics.retention import prune_downloads, retention_cutoff
from wheelyard.services.analytics.rollups import month_of


def test_the_rebuild_equals_the_incremental_rollups(
    db: Session, make: Factory, release_file: ReleaseFile
) -> None:
    other = make.package("other-project", versions=("3.0",)).releases[0].files[0]
    agents = (PIP, UV, BANDERSNATCH, None, "curl/8.5.0", "Artifactory/7.77.5")
    events = [
        at(file, MIDNIGHT - dt.timedelta(days=days, minutes=minutes), agent)
        for days in range(4)
        for minutes, agent in enumerate(agents)
        for file in (release_file, other)
    ]
    store_downloads(db, events)
    incremental = rollups(db)
    assert sum(n for *_, n in incremental[0]) == len(events)

    clear_rollups(db)
    assert rebuild_rollups(db) == len(events)
    assert rollups(db) == incremental
    # Rebuilding again changes nothing; it does not add on top.
    rebuild_rollups(db, since=TODAY - dt.timedelta(days=2))
    assert rollups(db) == incremental


def test_the_rebuild_classifies_rows_stored_without_categories(
    db: Session, release_file: ReleaseFile
) -> None:
    events = [
        at(release_file, MIDNIGHT - dt.timedelta(hours=h), a) for h, a in ((1, PIP), (30, UV))
    ]
    store_downloads(db, events)
    incremental = rollups(db)
    # Rows as an older wheelyard (or an import) wrote them: what was served, to whom, no more.
    db.execute(
        sa.update(Download).values(
            version=None, packagetype=None, installer=None, python_minor=None, system=None
        )
    )
    clear_rollups(db)
    assert unclassified_before(db, MIDNIGHT + dt.timedelta(days=1)) == 2

    rebuild_rollups(db)

    assert rollups(db) == incremental
    assert unclassified_before(db, MIDNIGHT + dt.timedelta(days=1)) == 0
    assert [(r.installer, r.version) for r in raw_rows(db)] == [("pip", "1.0"), ("uv", "1.0")]


def test_a_rebuilt_day_replaces_its_share_of_the_month(
    db: Session, make: Factory, release_file: ReleaseFile
) -> None:
    other = make.package("other-project", versions=("3.0",)).releases[0].files[0]
    # Two days of one month, when today allows it, and the last day of the month before.
    day = MIDNIGHT if TODAY.day > 1 else MIDNIGHT - dt.timedelta(days=1)
    last_month = day.replace(day=1) - dt.timedelta(days=1)
    store_downloads(
        db,
        [
            at(release_file, day),
            at(release_file, day + dt.timedelta(hours=1), UV),
            at(other, day + dt.timedelta(minutes=5), BANDERSNATCH),
            at(release_file, last_month, UV),
        ],
    )
    # The day's uv download and the other project's download are gone from the raw rows.
    db.execute(sa.delete(Download).where(Download.created_date >= day, Download.installer != "pip"))
    assert rebuild_day(db, day.date()) == 1
    rollups(db)  # months still equal the days summed
    found = months(db)
    assert found[("counted", "installer", month_of(day.date()), "pip", False)] == 1
    # uv keeps its month before; the emptied categories are gone, not left at zero.
    uv_months = {key[2] for key in found if key[:2] == ("counted", "installer") and key[3] == "uv"}
    assert uv_months == {month_of(last_month.date())}
    assert not any(key[0] == "other-project" for key in found)
    assert 0 not in found.values()


def test_the_rebuild_never_reaches_before_the_oldest_raw_row(
    db: Session, release_file: ReleaseFile
) -> None:
    old, recent = MIDNIGHT - dt.timedelta(days=10), MIDNIGHT - dt.timedelta(days=2)
    store_downloads(db, [at(release_file, old), at(release_file, recent)])
    # The old day's raw row was pruned; only its rollup remembers it.
    assert prune_downloads(db, retention_cutoff(5)) == 1
    assert rebuild_days(db, since=old.date()) == [
        recent.date() + dt.timedelta(days=n) for n in range(3)
    ]
    rebuild_rollups(db, since=old.date())
    counts, _ = rollups(db)
    assert counts == [("counted", old.date(), False, 1), ("counted", recent.date(), False, 1)]


def test_rebuilding_nothing_is_fine(db: Session) -> None:
    assert rebuild_days(db) == []
    assert rebuild_rollups(db) == 0
