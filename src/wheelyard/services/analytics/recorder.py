"""Recording downloads: one ``downloads`` row per served file, written off the request path.

A download must not wait for the database: the file handler hands a ``DownloadEvent`` to
the ``DownloadRecorder``, which only appends it to an in-memory queue. A background thread
writes the queue in batches at least once a second, and once more when the application
stops. Each batch is one transaction (``store_downloads``): the raw rows (executemany on
SQLite, COPY on PostgreSQL) and their counts added to the rollups (services.analytics.rollups).
Raw rows are kept for rebuilding (services.analytics.rebuild) until pruned
(services.analytics.retention); stats read the rollups only.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.data.db_session import database_busy, database_unavailable, transaction
from wheelyard.data.download import Download
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.analytics.classification import categories
from wheelyard.services.analytics.rollups import add_to_rollups
from wheelyard.services.index.served_files import ServedFile

log = logging.getLogger(__name__)

# Column sizes of the downloads table; longer client-supplied values are cut to fit.
MAX_IP_ADDRESS = 64
MAX_USER_AGENT = 1024

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


@dataclass(frozen=True, slots=True)
class DownloadEvent:
    package_id: str
    release_id: int
    file_id: int
    ip_address: str | None
    user_agent: str | None
    created_date: dt.datetime
    # Copied from the release and file when served, so the counts by version and file type
    # outlive a later deletion of either.
    version: str | None = None
    packagetype: str | None = None

    @classmethod
    def of(
        cls, release_file: ReleaseFile, ip_address: str | None, user_agent: str | None
    ) -> DownloadEvent:
        return cls.of_served(ServedFile.of(release_file), ip_address, user_agent)

    @classmethod
    def of_served(
        cls, served: ServedFile, ip_address: str | None, user_agent: str | None
    ) -> DownloadEvent:
        return cls(
            package_id=served.package_id,
            release_id=served.release_id,
            file_id=served.file_id,
            ip_address=ip_address[:MAX_IP_ADDRESS] if ip_address else None,
            user_agent=_clean_agent(user_agent),
            created_date=clock.now(),
            version=served.version,
            packagetype=served.packagetype,
        )


def _clean_agent(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    # PostgreSQL text cannot hold NUL, and one such row would fail its whole batch.
    return user_agent[:MAX_USER_AGENT].replace("\x00", "") or None


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

# Seconds between flushes: what a crash of the server may lose is the downloads of one.
FLUSH_INTERVAL = 0.5


class DownloadRecorder:
    """Queues download events and writes them in batches, off the request path.

    ``sessions`` is asked for the session factory at every flush, so the recorder always
    writes where the application currently reads (tests swap the factory after start-up).
    """

    def __init__(
        self,
        sessions: Callable[[], sessionmaker[Session]],
        *,
        interval: float = FLUSH_INTERVAL,
        batch_size: int = 5_000,
        max_pending: int = 1_000_000,
    ) -> None:
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.written = 0  # rows stored so far
        self.lost = 0  # events dropped: queue full, or rows the database refused
        self._sessions = sessions
        self._pending: deque[DownloadEvent] = deque()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record(self, event: DownloadEvent) -> None:
        """Queue one download; never blocks and never touches the database."""
        if len(self._pending) >= self.max_pending:
            # The database has been unreachable for a long while: keep the memory bounded.
            self.lost += 1
            return
        self._pending.append(event)  # deque.append is atomic across threads

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="download-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and write whatever is still queued."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()
        if self._pending:
            # The database is unreachable as we shut down: these die with the process.
            log.error("download recorder: %d downloads lost at shutdown", len(self._pending))
            self.lost += len(self._pending)
            self._pending.clear()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # the thread must outlive any one failure
                log.exception("download recorder: flush failed")

    def flush(self) -> int:
        """Write every queued event now; returns how many rows were stored."""
        stored = 0
        with self._flush_lock:
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
