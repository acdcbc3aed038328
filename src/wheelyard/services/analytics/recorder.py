"""Recording downloads: one ``downloads`` row per served file, written off the request path.

A download must not wait for the database: the file handler hands a ``DownloadEvent`` to
the ``DownloadRecorder``, which only appends it to an in-memory queue. With a spool folder
(the server's: under the var directory) the queue goes to local disk within a few
milliseconds (services.analytics.spool), so a ``kill -9`` loses no answered download, and
the flusher stores whole segments, each with its marker. A background thread writes in
batches every ``FLUSH_INTERVAL``, and once more when the application stops; segments left
by a process that died are replayed at start and now and then after. Each batch is one
transaction (``store_downloads``): the raw rows (executemany on
SQLite, COPY on PostgreSQL) and their counts added to the rollups (services.analytics.rollups).
Raw rows are kept for rebuilding (services.analytics.rebuild) until pruned
(services.analytics.retention); stats read the rollups only.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.data.db_session import database_busy, database_unavailable, transaction
from wheelyard.data.download import Download
from wheelyard.data.download_spool_segment import DownloadSpoolSegment
from wheelyard.data.modelbase import utcnow
from wheelyard.services.analytics.classification import categories
from wheelyard.services.analytics.events import MAX_IP_ADDRESS, MAX_USER_AGENT, DownloadEvent
from wheelyard.services.analytics.rollups import add_to_rollups
from wheelyard.services.analytics.spool import DownloadSpool, Segment, read_segment

__all__ = [
    "MAX_IP_ADDRESS",
    "MAX_USER_AGENT",
    "DownloadEvent",
    "DownloadRecorder",
    "store_downloads",
]

log = logging.getLogger(__name__)

DOWNLOADS = cast(sa.Table, Download.__table__)
# The columns of a raw row, in the order COPY sends them.
RAW_COLUMNS = (
    "created_date",
    "package_id",
    "release_id",
    "file_id",
    "ip_address",
    "user_agent",
    "version",
    "packagetype",
    "installer",
    "python_minor",
    "system",
    "is_mirror",
)
COPY_DOWNLOADS = f"COPY downloads ({', '.join(RAW_COLUMNS)}) FROM STDIN"


def raw_row(event: DownloadEvent) -> dict[str, Any]:
    """The ``downloads`` row of one event, its categories read from the user agent."""
    return {
        "created_date": event.created_date,
        "package_id": event.package_id,
        "release_id": event.release_id,
        "file_id": event.file_id,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "version": event.version,
        "packagetype": event.packagetype,
        **categories(event.user_agent),
    }


def store_downloads(db: Session, events: Sequence[DownloadEvent]) -> None:
    """Insert one raw row per event and add the events to the rollups, in ``db``'s transaction."""
    rows = [raw_row(event) for event in events]
    _insert_raw(db, rows)
    add_to_rollups(db, ((row, 1) for row in rows))


def _insert_raw(db: Session, rows: list[dict[str, Any]]) -> None:
    if db.get_bind().dialect.name == "postgresql" and len(rows) > 1:
        # COPY streams the batch in one round trip, several times faster than executemany.
        driver = db.connection().connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(COPY_DOWNLOADS) as copy:
            for row in rows:
                copy.write_row([row[column] for column in RAW_COLUMNS])
    else:
        db.execute(sa.insert(DOWNLOADS), rows)


# --- the queue -------------------------------------------------------------------------------

# Seconds between flushes: what a crash of the server may lose, without a spool, is the
# downloads of one.
FLUSH_INTERVAL = 0.5
# Seconds between looks for segments of processes that died (one is taken at start).
REPLAY_INTERVAL = 10.0
# Markers of stored segments are only needed while a segment's file may still be on disk.
MARKER_LIFETIME = dt.timedelta(days=1)


class DownloadRecorder:
    """Queues download events and writes them in batches, off the request path.

    ``sessions`` is asked for the session factory at every flush, so the recorder always
    writes where the application currently reads (tests swap the factory after start-up).
    With ``spool_dir``, events are kept on disk until stored (see the module's docstring).
    """

    def __init__(
        self,
        sessions: Callable[[], sessionmaker[Session]],
        *,
        spool_dir: Path | None = None,
        interval: float = FLUSH_INTERVAL,
        batch_size: int = 5_000,
        max_pending: int = 1_000_000,
    ) -> None:
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.written = 0  # rows stored so far
        self.lost = 0  # events dropped: queue full, or rows the database refused
        self.replayed = 0  # rows stored from segments of processes that died
        self.spool = DownloadSpool(spool_dir) if spool_dir is not None else None
        self._sessions = sessions
        self._pending: deque[DownloadEvent] = (
            self.spool.unspooled if self.spool is not None else deque()
        )
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_replay = 0.0

    @property
    def pending(self) -> int:
        return self.spool.queued if self.spool is not None else len(self._pending)

    def record(self, event: DownloadEvent) -> None:
        """Queue one download; never blocks and never touches the database."""
        if self.pending >= self.max_pending:
            # The database (or the disk) has been refusing for a long while: keep the
            # memory bounded.
            self.lost += 1
            return
        if self.spool is not None:
            self.spool.append(event)
        else:
            self._pending.append(event)  # deque.append is atomic across threads

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        if self.spool is not None:
            self.spool.start()
        self._stop.clear()
        self._next_replay = 0.0
        self._thread = threading.Thread(target=self._run, name="download-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and write whatever is still queued."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.spool is not None:
            self.spool.stop()
        self.flush()
        if self.spool is not None:
            # Segments the database did not take stay on disk for the next start.
            self.spool.close()
        if self._pending:
            # The database is unreachable as we shut down: these die with the process.
            log.error("download recorder: %d downloads lost at shutdown", len(self._pending))
            self.lost += len(self._pending)
            self._pending.clear()

    def _run(self) -> None:
        # What processes that died left comes first; this process's own downloads a flush
        # interval later, as before there was a spool.
        self._guarded(self._replay_when_due)
        while not self._stop.wait(self.interval):
            self._guarded(self.flush)
            self._guarded(self._replay_when_due)

    @staticmethod
    def _guarded(step: Callable[[], object]) -> None:
        try:
            step()
        except Exception:  # the thread must outlive any one failure
            log.exception("download recorder: flush failed")

    def _replay_when_due(self) -> None:
        if self.spool is None or time.monotonic() < self._next_replay:
            return
        self._next_replay = time.monotonic() + REPLAY_INTERVAL
        self.replay()

    def replay(self) -> int:
        """Store the segments of processes that died; returns how many rows were stored."""
        if self.spool is None:
            return 0
        stored = 0
        with self._flush_lock:
            for segment in self.spool.orphans():
                try:
                    count = self._store_segment(segment)
                except _DatabaseUnavailable:
                    self.spool.release(segment)
                    continue
                self.spool.remove(segment)
                stored += count
        if stored:
            log.info("download recorder: %d downloads replayed from the spool", stored)
        self.replayed += stored
        return stored

    def flush(self) -> int:
        """Write every queued event now; returns how many rows were stored."""
        stored = 0
        with self._flush_lock:
            if self.spool is not None:
                for segment in self.spool.seal():
                    try:
                        stored += self._store_segment(segment)
                    except _DatabaseUnavailable:
                        break  # the segments wait on disk for a later flush
                    self.spool.remove(segment)
            while self._pending:
                batch = self._take(self.batch_size)
                try:
                    stored += self._write(batch)
                except _DatabaseUnavailable as error:
                    # Back to the front of the queue, in order: a later flush writes them
                    # once the database is back (a restart must not cost the downloads).
                    self._pending.extendleft(reversed(error.unwritten))
                    log.warning(
                        "download recorder: database unavailable or busy, %d downloads wait: %s",
                        len(self._pending),
                        error.__cause__,
                    )
                    break
        return stored

    def _store_segment(self, segment: Segment) -> int:
        """Store a segment's events and its marker in one transaction (none if it has one)."""
        events = read_segment(segment)
        if not events:
            return 0
        try:
            with transaction(self._sessions()) as db:
                if db.get(DownloadSpoolSegment, segment.name) is not None:
                    return 0  # stored before a crash kept its file from being removed
                stored = _store_skipping_refused(db, events)
                db.add(DownloadSpoolSegment(name=segment.name))
                # The database's clock, the one that stamped the markers.
                now = db.scalar(sa.select(utcnow()))
                assert now is not None
                db.execute(
                    sa.delete(DownloadSpoolSegment).where(
                        DownloadSpoolSegment.created_date < now - MARKER_LIFETIME
                    )
                )
        except Exception as error:
            if _worth_waiting(error):
                log.warning(
                    "download recorder: database unavailable or busy, segment %s waits: %s",
                    segment.name,
                    error,
                )
                raise _DatabaseUnavailable(events) from error
            raise
        self.written += stored
        self.lost += len(events) - stored
        return stored

    def _take(self, limit: int) -> list[DownloadEvent]:
        batch: list[DownloadEvent] = []
        while self._pending and len(batch) < limit:
            batch.append(self._pending.popleft())
        return batch

    def _write(self, batch: Sequence[DownloadEvent]) -> int:
        try:
            self._insert(batch)
        except Exception as error:
            if _worth_waiting(error):
                raise _DatabaseUnavailable(batch) from error
            log.exception(
                "download recorder: a batch of %d rows failed; retrying singly", len(batch)
            )
            return self._write_singly(batch)
        self.written += len(batch)
        return len(batch)

    def _write_singly(self, batch: Sequence[DownloadEvent]) -> int:
        # One bad row (say, its project was deleted in between) must not cost the others.
        stored = 0
        for number, event in enumerate(batch):
            try:
                self._insert([event])
            except Exception as error:
                if _worth_waiting(error):
                    self.written += stored
                    raise _DatabaseUnavailable(batch[number:]) from error
                self.lost += 1
                log.warning("download recorder: dropped %s: %s", event, error)
            else:
                stored += 1
        self.written += stored
        return stored

    def _insert(self, batch: Sequence[DownloadEvent]) -> None:
        with transaction(self._sessions()) as db:
            store_downloads(db, batch)


def _store_skipping_refused(db: Session, events: Sequence[DownloadEvent]) -> int:
    """Store the events in ``db``'s transaction; one the database refuses costs only itself."""
    try:
        with db.begin_nested():
            store_downloads(db, events)
        return len(events)
    except Exception as error:
        if _worth_waiting(error):
            raise
        log.exception("download recorder: a segment of %d rows failed; storing singly", len(events))
    stored = 0
    for event in events:
        try:
            with db.begin_nested():
                store_downloads(db, [event])
        except Exception as error:
            if _worth_waiting(error):
                raise
            log.warning("download recorder: dropped %s: %s", event, error)
        else:
            stored += 1
    return stored


def _worth_waiting(error: BaseException) -> bool:
    """Whether the rows should wait for a later flush rather than be given up: the database
    is away, or busy with another's write lock (SQLite's "database is locked"), which
    passes; only a row the database refuses for itself is dropped."""
    return database_unavailable(error) or database_busy(error)


class _DatabaseUnavailable(Exception):
    """A write failed because the database cannot be reached; ``unwritten`` wait for it."""

    def __init__(self, unwritten: Sequence[DownloadEvent]) -> None:
        super().__init__(f"{len(unwritten)} downloads unwritten")
        self.unwritten = unwritten
