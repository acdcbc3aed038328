"""The download spool: events on disk within milliseconds, replayed once after a crash, and
a full disk costing durability, not downloads."""

from __future__ import annotations

import errno
import os
import shutil
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.download_rollups import event, raw_rows
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.analytics.recorder import DownloadEvent, DownloadRecorder
from wheelyard.services.analytics.spool import MAX_SEALED, DownloadSpool, Segment, read_segment


def segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.seg"))


def spool_of(recorder: DownloadRecorder) -> DownloadSpool:
    """The recorder's spool, its folder made (as the writer thread's start makes it)."""
    assert recorder.spool is not None
    recorder.spool.folder.mkdir(parents=True, exist_ok=True)
    return recorder.spool


def counted(db: Session) -> int:
    db.expire_all()
    return sum(row.downloads for row in db.query(DownloadCount).all())


def test_a_segment_keeps_every_field_and_skips_a_torn_last_line(
    tmp_path: Path, release_file: ReleaseFile
) -> None:
    spool = DownloadSpool(tmp_path)
    written = [event(release_file, "pip/26.0"), DownloadEvent.of(release_file, None, None)]
    for one in written:
        spool.append(one)
    assert spool.sync() == 2
    [segment] = spool.seal()
    # A kill -9 in the middle of a write leaves part of a line, never synced nor answered.
    with open(segment.path, "ab") as file:
        file.write(b'["2026-12-03T08:00:00","counted",1')
    assert segment.events == written
    # As a replay reads it, from the file.
    assert read_segment(Segment(segment.path, segment.fd)) == written
    spool.close()


def test_a_recorded_download_is_on_disk_within_100_ms(
    tmp_path: Path, sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions, spool_dir=tmp_path, interval=3600)
    recorder.start()
    try:
        time.sleep(0.2)  # past the first flush, which finds nothing
        recorder.record(event(release_file))
        time.sleep(0.1)
        [segment] = segments(tmp_path)
        assert segment.read_bytes().count(b"\n") == 1
        assert raw_rows(db) == []
    finally:
        recorder.stop()
    # Stopping stores it, and the segment goes.
    assert len(raw_rows(db)) == 1
    assert segments(tmp_path) == []


def test_flush_stores_the_segment_and_removes_it(
    tmp_path: Path, sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    recorder = DownloadRecorder(lambda: sessions, spool_dir=tmp_path)
    for _ in range(3):
        recorder.record(event(release_file))
    assert recorder.pending == 3
    assert recorder.spool is not None
    recorder.spool.sync()
    assert recorder.pending == 0
    assert recorder.flush() == 3
    assert len(raw_rows(db)) == 3
    assert counted(db) == 3
    assert segments(tmp_path) == []


def test_segments_of_a_dead_process_are_replayed_once(
    tmp_path: Path, sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    dead = DownloadSpool(tmp_path)
    for _ in range(4):
        dead.append(event(release_file))
    dead.sync()
    dead.seal()
    dead.append(event(release_file))
    dead.sync()  # a second segment, still the current one when the process died
    dead.close()  # what the kernel does to its locks when it dies

    recorder = DownloadRecorder(lambda: sessions, spool_dir=tmp_path)
    assert recorder.replay() == 5
    assert len(raw_rows(db)) == 5
    assert segments(tmp_path) == []
    assert recorder.replay() == 0


def test_a_segment_stored_but_not_removed_is_not_counted_twice(
    tmp_path: Path, sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    spool_dir, kept = tmp_path / "spool", tmp_path / "kept"
    kept.mkdir()
    recorder = DownloadRecorder(lambda: sessions, spool_dir=spool_dir)
    spool_of(recorder)
    for _ in range(2):
        recorder.record(event(release_file))
    spool_of(recorder).sync()
    [segment] = segments(spool_dir)
    shutil.copy(segment, kept / segment.name)
    assert recorder.flush() == 2
    # A crash between the commit and the removal: the file is back, its lock gone.
    shutil.copy(kept / segment.name, segment)

    other = DownloadRecorder(lambda: sessions, spool_dir=spool_dir)
    assert other.replay() == 0
    assert len(raw_rows(db)) == 2
    assert counted(db) == 2
    assert segments(spool_dir) == []


def test_a_segment_whose_owner_lives_is_left_to_it(
    tmp_path: Path, sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    owner = DownloadRecorder(lambda: sessions, spool_dir=tmp_path)
    spool_of(owner)
    owner.record(event(release_file))
    spool_of(owner).sync()

    other = DownloadRecorder(lambda: sessions, spool_dir=tmp_path)
    assert other.replay() == 0
    assert len(segments(tmp_path)) == 1
    assert owner.flush() == 1
    assert len(raw_rows(db)) == 1


def test_segments_wait_on_disk_while_the_database_is_away(
    tmp_path: Path, sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    def away() -> sessionmaker[Session]:
        raise sa.exc.OperationalError("connect", {}, psycopg.OperationalError("connection refused"))

    recorder = DownloadRecorder(away, spool_dir=tmp_path)
    recorder.start()
    recorder.record(event(release_file))
    time.sleep(0.1)
    recorder.stop()
    assert len(segments(tmp_path)) == 1
    assert recorder.lost == 0
    # The next start, against a database that answers, stores it.
    assert DownloadRecorder(lambda: sessions, spool_dir=tmp_path).replay() == 1
    assert len(raw_rows(db)) == 1


def test_a_full_disk_keeps_the_downloads_in_memory_and_counts_the_failure(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    db: Session,
    release_file: ReleaseFile,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    recorder = DownloadRecorder(lambda: sessions, spool_dir=tmp_path)
    assert recorder.spool is not None
    recorder.spool.folder.mkdir(exist_ok=True)
    monkeypatch.setattr(os, "fdatasync", disk_full)
    for _ in range(3):
        recorder.record(event(release_file))
    assert recorder.spool.sync() == 0
    assert recorder.spool.write_failures == 1
    assert recorder.pending == 3
    monkeypatch.undo()

    # The failed write was cut back out of the segment: stored once, from memory.
    assert recorder.flush() == 3
    assert recorder.pending == 0
    assert len(raw_rows(db)) == 3
    assert segments(tmp_path) == []


def test_a_long_outage_grows_a_segment_not_the_number_held(
    tmp_path: Path, sessions: sessionmaker[Session], db: Session, release_file: ReleaseFile
) -> None:
    def away() -> sessionmaker[Session]:
        raise sa.exc.OperationalError("connect", {}, psycopg.OperationalError("refused"))

    recorder = DownloadRecorder(away, spool_dir=tmp_path)
    spool = spool_of(recorder)
    for _ in range(3 * MAX_SEALED):
        recorder.record(event(release_file))
        spool.sync()
        assert recorder.flush() == 0
    assert len(segments(tmp_path)) == MAX_SEALED + 1
    spool.close()
    assert DownloadRecorder(lambda: sessions, spool_dir=tmp_path).replay() == 3 * MAX_SEALED
    assert len(raw_rows(db)) == 3 * MAX_SEALED
