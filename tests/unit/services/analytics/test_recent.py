"""The 30-day sums of download_recent and the site's daily totals, against plain sums."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.clock import WallClock
from tests.helpers.factories import Factory
from wheelyard.data.download import Download
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.download_recent import DownloadRecent
from wheelyard.data.download_total import DownloadTotal
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.analytics import recent, stats
from wheelyard.services.analytics.rebuild import rebuild_day
from wheelyard.services.analytics.recorder import DownloadEvent, store_downloads

TODAY = clock.today()
PIP = "pip/24.0"
MIRROR = "bandersnatch/6.5.0 (cpython 3.11.8-final0, Linux x86_64) (aiohttp 3.9.3)"


@pytest.fixture
def files(make: Factory, db: Session) -> list[ReleaseFile]:
    found = [make.package(f"project-{n}").releases[0].files[0] for n in range(6)]
    db.flush()
    return found


def on(release_file: ReleaseFile, day: dt.date, agent: str = PIP) -> DownloadEvent:
    at = dt.datetime.combine(day, dt.time(12))
    return dataclasses.replace(DownloadEvent.of(release_file, None, agent), created_date=at)


def scattered(files: list[ReleaseFile], *, seed: int, count: int, days: int) -> list[DownloadEvent]:
    """``count`` downloads of random files over the last ``days`` days, a mirror's or pip's."""
    rng = random.Random(seed)
    return [
        on(
            rng.choice(files),
            TODAY - dt.timedelta(days=rng.randrange(days)),
            rng.choice((PIP, MIRROR)),
        )
        for _ in range(count)
    ]


def kept(db: Session) -> dict[tuple[str, bool], int]:
    r = DownloadRecent
    return {(p, m): n for p, m, n in db.execute(sa.select(r.package_id, r.is_mirror, r.downloads))}


def summed(db: Session, last_day: dt.date) -> dict[tuple[str, bool], int]:
    c = DownloadCount
    first = last_day - dt.timedelta(days=29)
    query = (
        sa.select(c.package_id, c.is_mirror, sa.func.sum(c.downloads))
        .where(c.day.between(first, last_day))
        .group_by(c.package_id, c.is_mirror)
    )
    return {(p, m): int(n) for p, m, n in db.execute(query)}


def test_the_window_equals_the_counts_summed_as_the_days_go_by(
    db: Session, files: list[ReleaseFile], frozen_clock: WallClock
) -> None:
    rng = random.Random(3)
    start = TODAY - dt.timedelta(days=120)
    # Days pass one to nine at a time; each day's batch holds downloads of today and of
    # earlier days (late flushes, imports), some far outside the window.
    day = start
    while day <= TODAY:
        frozen_clock.set_day(day)
        events = [
            on(
                rng.choice(files),
                day - dt.timedelta(days=rng.choice((0, 0, 0, 1, 5, 29, 30, 45))),
                rng.choice((PIP, PIP, MIRROR)),
            )
            for _ in range(rng.randrange(1, 15))
        ]
        store_downloads(db, events)
        assert recent.last_day(db) == day
        assert kept(db) == summed(db, day), day
        day += dt.timedelta(days=rng.randrange(1, 10))
    # Forty days without a download: the next one refills the window from scratch.
    later = TODAY + dt.timedelta(days=40)
    frozen_clock.set_day(later)
    store_downloads(db, [on(files[0], later)])
    assert kept(db) == summed(db, later) == {(files[0].release.package_id, False): 1}
    assert 0 not in kept(db).values()


def test_a_rebuilt_day_inside_the_window_replaces_its_sums(
    db: Session, files: list[ReleaseFile], frozen_clock: WallClock
) -> None:
    frozen_clock.set_day(TODAY)  # no midnight between the downloads and the sums
    yesterday = TODAY - dt.timedelta(days=1)
    store_downloads(db, [on(files[0], yesterday), on(files[1], yesterday), on(files[1], TODAY)])
    # One of yesterday's raw rows is gone (pruned or deleted by hand); the rebuild follows.
    gone = db.scalars(
        sa.select(Download.id).where(Download.package_id == files[0].release.package_id)
    ).one()
    db.execute(sa.delete(Download).where(Download.id == gone))
    rebuild_day(db, yesterday)
    assert kept(db) == summed(db, TODAY) == {(files[1].release.package_id, False): 2}


def test_top_projects_from_the_window_equal_the_sum_of_the_days(
    db: Session, files: list[ReleaseFile]
) -> None:
    events = scattered(files, seed=5, count=300, days=40)
    events += [on(files[4], TODAY), on(files[5], TODAY)]  # a tie, broken by name
    store_downloads(db, events)
    assert recent.last_day(db) == TODAY
    expected = sorted(
        ((p, n) for (p, m), n in summed(db, TODAY).items() if not m),
        key=lambda row: (-row[1], row[0]),
    )
    top = stats.top_projects(db, limit=len(files))
    assert [(row.package_id, row.downloads) for row in top] == expected
    assert stats.top_projects(db, limit=2) == top[:2]
    # Another period, or mirrors counted, sums the days instead; the same for 30 days.
    with_mirrors = stats.top_projects(db, limit=len(files), mirrors=True)
    assert sum(row.downloads for row in with_mirrors) == sum(summed(db, TODAY).values())


def test_the_sites_totals_are_the_projects_counts_summed(
    db: Session, files: list[ReleaseFile]
) -> None:
    events = scattered(files, seed=9, count=400, days=200)
    store_downloads(db, events)
    t, c = DownloadTotal, DownloadCount
    totals = {(day, m): n for day, m, n in db.execute(sa.select(t.day, t.is_mirror, t.downloads))}
    by_day = sa.select(c.day, c.is_mirror, sa.func.sum(c.downloads)).group_by(c.day, c.is_mirror)
    assert totals == {(day, m): int(n) for day, m, n in db.execute(by_day)}
    assert stats.total(db, None) == sum(n for (_, m), n in totals.items() if not m)
    assert stats.total(db, None, mirrors=True) == len(events)
    week = stats.recent(db, None).last_week
    assert week == sum(
        n for (day, m), n in totals.items() if not m and day > TODAY - dt.timedelta(days=7)
    )
