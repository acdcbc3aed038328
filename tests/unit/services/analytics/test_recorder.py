"""The recorder: events cut to fit, queued off the request path, written in batches that
survive a bad row and an unreachable database."""

from __future__ import annotations

import logging
import sqlite3
import time

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.download_rollups import BANDERSNATCH, PIP, TODAY, UV, event, raw_rows, rollups
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics.recorder import MAX_USER_AGENT, DownloadEvent, DownloadRecorder


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
    assert raw_rows(db) == []

    assert recorder.flush() == 2

    assert recorder.pending == 0
    assert recorder.written == 2
    stored = raw_rows(db)
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
    assert len(raw_rows(db)) == 5


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
    assert [row.user_agent for row in raw_rows(db)] == ["before", "after"]
    recorder.record(event(release_file, "later"))
    assert recorder.flush() == 1
    assert [row.user_agent for row in raw_rows(db)] == ["before", "after", "later"]


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
    assert [row.user_agent for row in raw_rows(db)] == ["first", "second", "third", "fourth"]


def test_downloads_wait_while_another_writer_holds_the_lock(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    # SQLite's answer when another transaction held the write lock past the busy timeout
    # (a slow upload did, once): the rows wait for the next flush, none is dropped.
    locked = True

    def current_sessions() -> sessionmaker[Session]:
        if locked:
            raise sa.exc.OperationalError(
                "INSERT INTO downloads", {}, sqlite3.OperationalError("database is locked")
            )
        return sessions

    recorder = DownloadRecorder(current_sessions, batch_size=2)
    for agent in ("first", "second", "third"):
        recorder.record(event(release_file, agent))
    assert recorder.flush() == 0
    assert (recorder.pending, recorder.lost) == (3, 0)

    locked = False
    assert recorder.flush() == 3
    assert [row.user_agent for row in raw_rows(db)] == ["first", "second", "third"]


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
    assert len(raw_rows(db)) == 1


def test_stop_writes_what_is_still_queued(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions, interval=3600)
    recorder.start()
    recorder.record(event(release_file))
    recorder.record(event(release_file))
    recorder.stop()
    assert len(raw_rows(db)) == 2


def test_a_flush_stores_categories_and_adds_to_the_rollups(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions)
    for agent in (PIP, PIP, UV, BANDERSNATCH, None):
        recorder.record(event(release_file, agent or ""))
    assert recorder.flush() == 5

    stored = raw_rows(db)
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
