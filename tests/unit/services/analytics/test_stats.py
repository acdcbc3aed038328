"""The stats service: figures for pages and the API, read from the rollups alone."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.download import Download
from wheelyard.data.download_breakdown import Dimension, DownloadBreakdown
from wheelyard.data.package import Visibility
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics import stats
from wheelyard.services.analytics.recorder import DownloadEvent, store_downloads

TODAY = dt.date(2026, 3, 31)
NOON = dt.datetime.combine(TODAY, dt.time(12))
BANDERSNATCH = "bandersnatch/6.5.0 (cpython 3.11.8-final0, Linux x86_64) (aiohttp 3.9.3)"


def linehaul(installer: str, python: str | None, system: str | None) -> str:
    data = {
        "installer": {"name": installer, "version": "1.0"},
        "python": python,
        "system": {"name": system, "release": "1"} if system else None,
    }
    return f"{installer}/1.0 {json.dumps(data)}"


PIP_311_LINUX = linehaul("pip", "3.11.7", "Linux")
PIP_312_MAC = linehaul("pip", "3.12.1", "Darwin")
UV_313_WINDOWS = linehaul("uv", "3.13.0", "Windows")
UV_27_FREEBSD = linehaul("uv", "2.7.18", "FreeBSD")


def download(
    release_file: ReleaseFile, days_ago: int, agent: str | None = PIP_311_LINUX
) -> DownloadEvent:
    return DownloadEvent(
        package_id=release_file.release.package_id,
        release_id=release_file.release_id,
        file_id=release_file.id,
        ip_address=None,
        user_agent=agent,
        created_date=NOON - dt.timedelta(days=days_ago),
        version=release_file.release.version,
        packagetype=release_file.packagetype,
    )


@pytest.fixture
def files(make: Factory) -> dict[str, ReleaseFile]:
    package = make.package("charted", versions=("1.0", "2.0"))
    by_version = {release.version: release.files[0] for release in package.releases}
    quiet = make.package("quiet").releases[0].files[0]
    return {**by_version, "quiet": quiet}


@pytest.fixture
def charted(db: Session, files: dict[str, ReleaseFile]) -> str:
    """Downloads of "charted" over 40 days; "quiet" gets a few."""
    one, two = files["1.0"], files["2.0"]
    events = [
        download(two, 0, PIP_311_LINUX),
        download(two, 0, UV_313_WINDOWS),
        download(one, 0, BANDERSNATCH),
        download(two, 3, PIP_312_MAC),
        download(one, 6, UV_27_FREEBSD),
        download(one, 7, PIP_311_LINUX),  # outside the week, inside the month
        download(one, 29, None),
        download(one, 30, PIP_311_LINUX),  # outside the month
        download(one, 40, PIP_311_LINUX),
        download(files["quiet"], 1),
        download(files["quiet"], 2),
    ]
    store_downloads(db, events)
    return "charted"


def test_recent_counts_today_and_the_last_7_and_30_days(db: Session, charted: str) -> None:
    assert stats.recent(db, charted, today=TODAY) == stats.RecentDownloads(2, 4, 6)
    assert stats.recent(db, charted, mirrors=True, today=TODAY) == (3, 5, 7)
    assert stats.recent(db, None, today=TODAY) == (2, 6, 8)
    assert stats.recent(db, "quiet", today=TODAY + dt.timedelta(days=60)) == (0, 0, 0)


def test_daily_is_zero_filled_oldest_first(db: Session, charted: str) -> None:
    series = stats.daily(db, charted, days=8, today=TODAY)
    assert [day for day, _ in series] == [TODAY - dt.timedelta(days=n) for n in range(7, -1, -1)]
    assert [n for _, n in series] == [1, 1, 0, 0, 1, 0, 0, 2]
    assert stats.daily(db, charted, days=1, mirrors=True, today=TODAY) == [(TODAY, 3)]
    assert len(stats.daily(db, charted, today=TODAY)) == stats.SERIES_DAYS
    with pytest.raises(ValueError, match="at least one day"):
        stats.daily(db, charted, days=0)


def test_total_counts_every_day_ever(db: Session, charted: str) -> None:
    assert stats.total(db, charted) == 8
    assert stats.total(db, charted, mirrors=True) == 9
    assert stats.total(db, None) == 10


def test_site_figures_leave_out_private_projects(
    db: Session, charted: str, files: dict[str, ReleaseFile]
) -> None:
    assert stats.total(db, None) == 10
    quiet = files["quiet"].release.package
    quiet.visibility = Visibility.PRIVATE
    db.flush()
    assert stats.recent(db, None, today=TODAY) == (2, 4, 6)
    assert [n for _, n in stats.daily(db, None, days=8, today=TODAY)] == [1, 1, 0, 0, 1, 0, 0, 2]
    assert stats.total(db, None) == 8
    assert stats.total(db, None, mirrors=True) == 9
    # More private installs move nothing anyone else sees; the project's own figures count.
    store_downloads(db, [download(files["quiet"], 0)])
    assert stats.recent(db, None, today=TODAY) == (2, 4, 6)
    assert stats.recent(db, quiet.id, today=TODAY) == (1, 3, 3)
    quiet.visibility = Visibility.PUBLIC
    db.flush()
    assert stats.recent(db, None, today=TODAY) == (3, 7, 9)


def test_breakdowns_over_a_period(db: Session, charted: str) -> None:
    def of(dimension: Dimension, **period: int) -> list[tuple[str | None, int]]:
        days = period.get("days", stats.MONTH)
        return list(stats.breakdown(db, charted, dimension, days=days, today=TODAY))

    assert of(Dimension.VERSION) == [("1.0", 3), ("2.0", 3)]
    assert of(Dimension.VERSION, days=7) == [("2.0", 3), ("1.0", 1)]
    assert of(Dimension.INSTALLER) == [("pip", 3), ("uv", 2), ("other", 1)]
    assert of(Dimension.PYTHON) == [("3.11", 2), ("2.7", 1), ("3.12", 1), ("3.13", 1), (None, 1)]
    assert of(Dimension.SYSTEM) == [
        ("Linux", 2),
        ("Darwin", 1),
        ("FreeBSD", 1),
        ("Windows", 1),
        (None, 1),
    ]
    assert of(Dimension.PACKAGETYPE) == [("bdist_wheel", 6)]
    assert stats.by_python_major(db, charted, today=TODAY) == [("3", 4), ("2", 1), (None, 1)]
    with_mirrors = stats.breakdown(db, charted, Dimension.INSTALLER, mirrors=True, today=TODAY)
    assert ("bandersnatch", 1) in with_mirrors


def test_daily_breakdowns_skip_empty_days(db: Session, charted: str) -> None:
    rows = stats.daily_breakdown(db, charted, Dimension.INSTALLER, days=7, today=TODAY)
    assert rows == [
        (TODAY - dt.timedelta(days=6), "uv", 1),
        (TODAY - dt.timedelta(days=3), "pip", 1),
        (TODAY, "pip", 1),
        (TODAY, "uv", 1),
    ]
    majors = stats.daily_python_major(db, charted, days=30, today=TODAY)
    assert majors == [
        (TODAY - dt.timedelta(days=29), None, 1),
        (TODAY - dt.timedelta(days=7), "3", 1),
        (TODAY - dt.timedelta(days=6), "2", 1),
        (TODAY - dt.timedelta(days=3), "3", 1),
        (TODAY, "3", 2),
    ]


def test_top_projects(db: Session, charted: str) -> None:
    assert stats.top_projects(db, today=TODAY) == [
        stats.ProjectDownloads("charted", "charted", 6),
        stats.ProjectDownloads("quiet", "quiet", 2),
    ]
    assert stats.top_projects(db, 1, days=2, today=TODAY) == [("charted", "charted", 2)]
    assert stats.top_projects(db, today=TODAY + dt.timedelta(days=100)) == []


def test_figures_come_from_the_rollups_not_the_raw_rows(db: Session, charted: str) -> None:
    # Pruned raw rows (or none at all) change nothing.
    db.execute(sa.delete(Download))
    assert stats.recent(db, charted, today=TODAY) == (2, 4, 6)
    assert stats.breakdown(db, charted, Dimension.VERSION, today=TODAY)[0] == ("1.0", 3)


def test_a_project_without_downloads(db: Session, files: dict[str, ReleaseFile]) -> None:
    assert stats.recent(db, "charted", today=TODAY) == (0, 0, 0)
    assert stats.daily(db, "charted", days=3, today=TODAY)[-1] == (TODAY, 0)
    assert stats.breakdown(db, "charted", Dimension.SYSTEM, today=TODAY) == []
    assert stats.by_python_major(db, "charted", today=TODAY) == []
    assert stats.total(db, "charted") == 0


# --- whole months -----------------------------------------------------------------------------


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def test_a_period_ending_today_takes_this_month_whole() -> None:
    # Nothing after today has downloads yet: the month's row is cheaper than its 28 days.
    assert stats.month_spans(d(11, 1), d(11, 28), now=d(11, 28)) == [
        stats.Span(True, d(11, 1), d(11, 1), 1),
        stats.Span(False, d(11, 29), d(11, 30), -1),
    ]


def test_a_period_takes_whole_months_and_the_cheaper_side_of_each_cut() -> None:
    spans = stats.month_spans(d(6, 2), d(11, 28), now=d(11, 28))
    assert spans == [
        # June less its first day: 2 rows per category instead of 29.
        stats.Span(True, d(6, 1), d(6, 1), 1),
        stats.Span(False, d(6, 1), d(6, 1), -1),
        *(stats.Span(True, d(m, 1), d(m, 1), 1) for m in (7, 8, 9, 10, 11)),
        stats.Span(False, d(11, 29), d(11, 30), -1),
    ]
    # A few days at the end of a month are cheaper read as days.
    assert stats.month_spans(d(10, 29), d(11, 3), now=d(11, 3))[0] == stats.Span(
        False, d(10, 29), d(10, 31), 1
    )
    # A period inside one month, seen from later on: its own days.
    assert stats.month_spans(d(3, 10), d(3, 12), now=d(11, 28)) == [
        stats.Span(False, d(3, 10), d(3, 12), 1)
    ]


def test_breakdowns_from_months_equal_the_sum_of_their_days(
    db: Session, files: dict[str, ReleaseFile]
) -> None:
    """Every period from 1 to 75 days, ending on several days, across month ends."""
    rng = random.Random(7)
    agents = [PIP_311_LINUX, PIP_312_MAC, UV_313_WINDOWS, UV_27_FREEBSD, BANDERSNATCH, None]
    events = [
        download(files[rng.choice(("1.0", "2.0"))], rng.randrange(90), rng.choice(agents))
        for _ in range(600)
    ]
    store_downloads(db, events)
    b = DownloadBreakdown

    def from_days(
        dimension: Dimension, first: dt.date, last: dt.date
    ) -> list[tuple[str | None, int]]:
        query = (
            sa.select(b.category, sa.func.sum(b.downloads))
            .where(
                b.package_id == "charted",
                b.dimension == dimension.value,
                b.day.between(first, last),
                b.is_mirror.is_(False),
            )
            .group_by(b.category)
        )
        found = sorted(
            ((c or None, int(n)) for c, n in db.execute(query)),
            key=lambda r: (-r[1], r[0] is None, r[0] or ""),
        )
        return [row for row in found if row[1]]

    # Ending on a month's last day, two days before it (its row less days with data), mid-month.
    for today in (TODAY, *(TODAY - dt.timedelta(days=n) for n in (31, 33, 45))):
        for days in range(1, 76):
            for dimension in (Dimension.VERSION, Dimension.INSTALLER):
                expected = from_days(dimension, stats.first_day(days, today), today)
                got = stats.breakdown(db, "charted", dimension, days=days, today=today)
                assert got == expected, (today, days, dimension)
