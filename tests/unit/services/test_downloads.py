from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Factory
from wheelyard.data.download import Download
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.downloads import (
    MAX_USER_AGENT,
    DownloadEvent,
    DownloadRecorder,
    find_served_file,
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


def test_find_served_file_loads_the_release(db: Session, release_file: ReleaseFile) -> None:
    db.expunge_all()
    found = find_served_file(db, release_file.filename)
    assert found is not None
    assert found.id == release_file.id
    assert found.release.package_id == "counted"
    assert find_served_file(db, "nothing-1.0.tar.gz") is None


def test_events_cut_client_values_to_the_column_sizes(release_file: ReleaseFile) -> None:
    long = event(release_file, agent="x" * 5000)
    assert long.user_agent is not None
    assert len(long.user_agent) == MAX_USER_AGENT
    empty = DownloadEvent.of(release_file, None, "")
    assert (empty.ip_address, empty.user_agent) == (None, None)


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

    with caplog.at_level(logging.WARNING, logger="wheelyard.services.downloads"):
        assert recorder.flush() == 2

    assert recorder.lost == 1
    assert "batch of 3 rows failed" in caplog.text
    assert [row.user_agent for row in rows(db)] == ["before", "after"]
    recorder.record(event(release_file, "later"))
    assert recorder.flush() == 1
    assert [row.user_agent for row in rows(db)] == ["before", "after", "later"]


def test_an_unreachable_database_loses_the_batch_not_the_recorder(
    sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    reachable = False

    def current_sessions() -> sessionmaker[Session]:
        if not reachable:
            raise sa.exc.OperationalError("connect", {}, Exception("database is down"))
        return sessions

    recorder = DownloadRecorder(current_sessions)
    recorder.record(event(release_file))
    assert recorder.flush() == 0
    assert recorder.lost == 1

    reachable = True
    recorder.record(event(release_file))
    assert recorder.flush() == 1
    assert len(rows(db)) == 1


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
