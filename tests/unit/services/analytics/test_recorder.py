from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections import Counter

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.factories import Factory
from wheelyard.data.download import Download
from wheelyard.data.download_breakdown import DownloadBreakdown, DownloadBreakdownMonth
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics.recorder import (
    MAX_USER_AGENT,
    DownloadEvent,
    DownloadRecorder,
    month_of,
    prune_downloads,
    rebuild_day,
    rebuild_days,
    rebuild_rollups,
    retention_cutoff,
    store_downloads,
    unclassified_before,
)


@pytest.fixture
def release_file(make: Factory, db: Session) -> ReleaseFile:
    package = make.package("counted")
    db.commit()
    return package.releases[0].files[0]


def event(release_file: ReleaseFile, agent: str = "pip/26.0") -> DownloadEvent:
    return DownloadEvent.of(release_file, "192.0.2.1", agent)


def rows(db: Session) -> list[Download]:
    return list(db.scalars(sa.select(Download).order_by(Download.id)))


def test_events_cut_client_values_to_the_column_sizes(release_file: ReleaseFile) -> None:
    long = event(release_file, agent="x" * 5000)
    assert long.user_agent is not None
    assert len(long.user_agent) == MAX_USER_AGENT
    empty = DownloadEvent.of(release_file, None, "")
    assert (empty.ip_address, empty.user_agent) == (None, None)
    # PostgreSQL cannot store NUL in text: one such header must not fail a batch.
    assert event(release_file, "pip/24.0\x00\x00x").user_agent == "pip/24.0x"
    assert event(release_file, "\x00").user_agent is None


def test_record_only_queues_and_flush_writes_every_field(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions)
    first = event(release_file, "pip/26.0")
    recorder.record(first)
    recorder.record(event(release_file, "uv/0.13"))
    assert recorder.pending == 2
    assert rows(db) == []

    assert recorder.flush() == 2

    assert recorder.pending == 0
    assert recorder.written == 2
    stored = rows(db)
    assert [row.user_agent for row in stored] == ["pip/26.0", "uv/0.13"]
    row = stored[0]
    assert (row.package_id, row.release_id, row.file_id, row.ip_address) == (
        "counted",
        release_file.release_id,
        release_file.id,
        "192.0.2.1",
    )
    assert row.created_date == first.created_date


def test_flush_writes_in_batches(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions, batch_size=2)
    for _ in range(5):
        recorder.record(event(release_file))
    assert recorder.flush() == 5
    assert len(rows(db)) == 5


def test_a_failing_batch_keeps_its_good_rows_and_the_recorder_goes_on(
    sessions: sessionmaker[Session],
    db: Session,
    release_file: ReleaseFile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = DownloadRecorder(lambda: sessions)
    recorder.record(event(release_file, "before"))
    # The project was deleted after its file was served: the row breaks a foreign key.
    ghost = DownloadEvent(
        "deleted-project",
        release_file.release_id,
        release_file.id,
        None,
        None,
        event(release_file).created_date,
    )
    recorder.record(ghost)
    recorder.record(event(release_file, "after"))

    with caplog.at_level(logging.WARNING, logger="wheelyard.services.analytics.recorder"):
        assert recorder.flush() == 2

    assert recorder.lost == 1
    assert "batch of 3 rows failed" in caplog.text
    assert [row.user_agent for row in rows(db)] == ["before", "after"]
    recorder.record(event(release_file, "later"))
    assert recorder.flush() == 1
    assert [row.user_agent for row in rows(db)] == ["before", "after", "later"]


def unreachable() -> sa.exc.OperationalError:
    """What connecting to a PostgreSQL server that is down raises."""
    return sa.exc.OperationalError("connect", {}, psycopg.OperationalError("connection refused"))


def test_downloads_wait_while_the_database_is_unreachable(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    reachable = False

    def current_sessions() -> sessionmaker[Session]:
        if not reachable:
            raise unreachable()
        return sessions

    recorder = DownloadRecorder(current_sessions, batch_size=2)
    for agent in ("first", "second", "third"):
        recorder.record(event(release_file, agent))
    assert recorder.flush() == 0
    assert (recorder.pending, recorder.lost) == (3, 0)

    reachable = True
    recorder.record(event(release_file, "fourth"))
    assert recorder.flush() == 4
    # In the order they were served.
    assert [row.user_agent for row in rows(db)] == ["first", "second", "third", "fourth"]


def test_downloads_still_unwritten_at_shutdown_are_counted_lost(
    release_file: ReleaseFile,
) -> None:
    def down() -> sessionmaker[Session]:
        raise unreachable()

    recorder = DownloadRecorder(down)
    recorder.record(event(release_file))
    recorder.record(event(release_file))
    recorder.stop()
    assert (recorder.pending, recorder.lost, recorder.written) == (0, 2, 0)


def test_the_queue_is_bounded(sessions: sessionmaker[Session], release_file: ReleaseFile) -> None:
    recorder = DownloadRecorder(lambda: sessions, max_pending=2)
    for _ in range(3):
        recorder.record(event(release_file))
    assert (recorder.pending, recorder.lost) == (2, 1)


def test_the_background_thread_flushes_within_a_second(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions, interval=0.2)
    recorder.start()
    try:
        recorder.record(event(release_file))
        deadline = time.monotonic() + 1.0
        # Only in-memory counters here: the test's session shares the recorder's connection.
        while recorder.written == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert recorder.written == 1
    finally:
        recorder.stop()
    assert len(rows(db)) == 1


def test_stop_writes_what_is_still_queued(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions, interval=3600)
    recorder.start()
    recorder.record(event(release_file))
    recorder.record(event(release_file))
    recorder.stop()
    assert len(rows(db)) == 2


# --- rollups ----------------------------------------------------------------------------------

PIP = (
    'pip/24.0 {"ci":null,"cpu":"x86_64","distro":{"id":"bookworm","libc":{"lib":"glibc",'
    '"version":"2.36"},"name":"Debian GNU/Linux","version":"12"},"implementation":'
    '{"name":"CPython","version":"3.11.7"},"installer":{"name":"pip","version":"24.0"},'
    '"openssl_version":"OpenSSL 3.0.11 19 Sep 2023","python":"3.11.7","rustc_version":'
    '"1.75.0","setuptools_version":"69.0.3","system":{"name":"Linux","release":'
    '"6.1.0-17-amd64"}}'
)
UV = (
    'uv/0.4.18 {"installer":{"name":"uv","version":"0.4.18"},"python":"3.12.6",'
    '"implementation":{"name":"CPython","version":"3.12.6"},"distro":{"name":"macOS",'
    '"version":"14.6","id":null,"libc":null},"system":{"name":"Darwin","release":"23.6.0"},'
    '"cpu":"arm64","openssl_version":null,"setuptools_version":null,"rustc_version":null,'
    '"ci":null}'
)
BANDERSNATCH = "bandersnatch/6.5.0 (cpython 3.11.8-final0, Linux x86_64) (aiohttp 3.9.3)"
TODAY = dt.datetime.now(dt.UTC).date()
MIDNIGHT = dt.datetime.combine(TODAY, dt.time())

Rollups = tuple[list[tuple[object, ...]], list[tuple[object, ...]]]


def at(release_file: ReleaseFile, when: dt.datetime, agent: str | None = PIP) -> DownloadEvent:
    return dataclasses.replace(event(release_file, agent or ""), created_date=when)


def rollups(db: Session) -> Rollups:
    """Both daily rollup tables' rows, without created_date, in key order; first checks that
    the monthly rows are exactly the daily breakdowns summed by month."""
    assert months(db) == months_from_days(db)
    counts = db.execute(
        sa.select(
            DownloadCount.package_id,
            DownloadCount.day,
            DownloadCount.is_mirror,
            DownloadCount.downloads,
        ).order_by(DownloadCount.package_id, DownloadCount.day, DownloadCount.is_mirror)
    )
    breakdowns = db.execute(
        sa.select(
            DownloadBreakdown.package_id,
            DownloadBreakdown.dimension,
            DownloadBreakdown.day,
            DownloadBreakdown.category,
            DownloadBreakdown.is_mirror,
            DownloadBreakdown.downloads,
        ).order_by(
            DownloadBreakdown.package_id,
            DownloadBreakdown.dimension,
            DownloadBreakdown.day,
            DownloadBreakdown.category,
            DownloadBreakdown.is_mirror,
        )
    )
    return [tuple(row) for row in counts], [tuple(row) for row in breakdowns]


def months(db: Session) -> dict[tuple[object, ...], int]:
    m = DownloadBreakdownMonth
    found = db.execute(
        sa.select(m.package_id, m.dimension, m.month, m.category, m.is_mirror, m.downloads)
    )
    return {tuple(key): n for *key, n in found}


def months_from_days(db: Session) -> dict[tuple[object, ...], int]:
    b = DownloadBreakdown
    summed: Counter[tuple[object, ...]] = Counter()
    for package_id, dimension, day, category, mirror, n in db.execute(
        sa.select(b.package_id, b.dimension, b.day, b.category, b.is_mirror, b.downloads)
    ):
        summed[package_id, dimension, month_of(day), category, mirror] += n
    return dict(summed)


def clear_rollups(db: Session) -> None:
    db.execute(sa.delete(DownloadCount))
    db.execute(sa.delete(DownloadBreakdown))
    db.execute(sa.delete(DownloadBreakdownMonth))


def test_a_flush_stores_categories_and_adds_to_the_rollups(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions)
    for agent in (PIP, PIP, UV, BANDERSNATCH, None):
        recorder.record(event(release_file, agent or ""))
    assert recorder.flush() == 5

    stored = rows(db)
    assert [(r.installer, r.python_minor, r.system, r.is_mirror) for r in stored] == [
        ("pip", "3.11", "Linux", False),
        ("pip", "3.11", "Linux", False),
        ("uv", "3.12", "Darwin", False),
        ("bandersnatch", "3.11", "Linux", True),
        ("other", None, None, False),
    ]
    assert {(r.version, r.packagetype) for r in stored} == {("1.0", "bdist_wheel")}
    counts, breakdowns = rollups(db)
    assert counts == [("counted", TODAY, False, 4), ("counted", TODAY, True, 1)]
    by_dimension = {(d, c, m): n for _, d, _, c, m, n in breakdowns}
    assert by_dimension == {
        ("installer", "bandersnatch", True): 1,
        ("installer", "other", False): 1,
        ("installer", "pip", False): 2,
        ("installer", "uv", False): 1,
        ("packagetype", "bdist_wheel", False): 4,
        ("packagetype", "bdist_wheel", True): 1,
        ("python", "", False): 1,
        ("python", "3.11", False): 2,
        ("python", "3.11", True): 1,
        ("python", "3.12", False): 1,
        ("system", "", False): 1,
        ("system", "Darwin", False): 1,
        ("system", "Linux", False): 2,
        ("system", "Linux", True): 1,
        ("version", "1.0", False): 4,
        ("version", "1.0", True): 1,
    }

    # A second flush adds to the same rows rather than writing new ones.
    recorder.record(event(release_file, PIP))
    recorder.flush()
    counts, _ = rollups(db)
    assert counts == [("counted", TODAY, False, 5), ("counted", TODAY, True, 1)]


def test_a_batch_across_midnight_counts_on_both_days(
    db: Session, release_file: ReleaseFile
) -> None:
    before = MIDNIGHT - dt.timedelta(microseconds=1)
    store_downloads(
        db,
        [
            at(release_file, before - dt.timedelta(hours=1)),
            at(release_file, before),
            at(release_file, MIDNIGHT),
            at(release_file, MIDNIGHT + dt.timedelta(seconds=1), UV),
        ],
    )
    counts, breakdowns = rollups(db)
    yesterday = TODAY - dt.timedelta(days=1)
    assert counts == [("counted", yesterday, False, 2), ("counted", TODAY, False, 2)]
    installers = [(day, c, n) for _, d, day, c, _, n in breakdowns if d == "installer"]
    assert installers == [(yesterday, "pip", 2), (TODAY, "pip", 1), (TODAY, "uv", 1)]


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
    assert [(r.installer, r.version) for r in rows(db)] == [("pip", "1.0"), ("uv", "1.0")]


def test_mirrors_are_flagged(db: Session, release_file: ReleaseFile) -> None:
    agents = (BANDERSNATCH, "devpi-server/6.10.0 (py3.11.4; linux)", "z3c.pypimirror/1.0.16")
    store_downloads(db, [at(release_file, MIDNIGHT, agent) for agent in (*agents, PIP)])
    assert [(r.is_mirror, r.installer) for r in rows(db)] == [
        (True, "bandersnatch"),
        (True, "devpi"),
        (True, "other"),
        (False, "pip"),
    ]
    counts, _ = rollups(db)
    assert counts == [("counted", TODAY, False, 1), ("counted", TODAY, True, 3)]


def test_deleting_a_release_or_file_keeps_its_counts(
    db: Session, make: Factory, release_file: ReleaseFile
) -> None:
    package = release_file.release.package
    second = make.release(package, "2.0")
    sdist = make.file(second, packagetype="sdist")
    db.flush()
    store_downloads(
        db,
        [
            at(release_file, MIDNIGHT),
            at(second.files[0], MIDNIGHT),
            at(sdist, MIDNIGHT + dt.timedelta(minutes=1)),
        ],
    )
    before = rollups(db)

    db.delete(release_file.release)
    second.files.remove(sdist)
    db.flush()
    db.expire_all()

    first, second_wheel, removed_sdist = rows(db)
    assert (first.release_id, first.file_id, first.version) == (None, None, "1.0")
    assert second_wheel.file_id is not None
    assert (removed_sdist.file_id, removed_sdist.packagetype) == (None, "sdist")
    assert rollups(db) == before
    clear_rollups(db)
    rebuild_rollups(db)
    assert rollups(db) == before


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

    assert [r.created_date for r in rows(db)] == [cutoff, MIDNIGHT]
    assert rollups(db) == before
