"""Downloads: the file a download URL names, and one ``downloads`` row per served file.

A download must not wait for the database: the file handler hands a ``DownloadEvent`` to
the ``DownloadRecorder``, which only appends it to an in-memory queue. A background thread
writes the queue in batches (one multi-row insert per transaction) at least once a second,
and once more when the application stops.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, sessionmaker

from wheelyard.data.db_session import transaction
from wheelyard.data.download import Download
from wheelyard.data.release_file import ReleaseFile

log = logging.getLogger(__name__)

# Column sizes of the downloads table; longer client-supplied values are cut to fit.
MAX_IP_ADDRESS = 64
MAX_USER_AGENT = 1024


def find_served_file(db: Session, filename: str) -> ReleaseFile | None:
    """The release file named ``filename`` (filenames are unique), with its release."""
    query = (
        sa.select(ReleaseFile)
        .join(ReleaseFile.release)
        .options(contains_eager(ReleaseFile.release))
        .where(ReleaseFile.filename == filename)
    )
    return db.scalars(query).one_or_none()


def utcnow() -> dt.datetime:
    """Naive UTC, as every timestamp in the database."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class DownloadEvent:
    package_id: str
    release_id: int
    file_id: int
    ip_address: str | None
    user_agent: str | None
    created_date: dt.datetime

    @classmethod
    def of(
        cls, release_file: ReleaseFile, ip_address: str | None, user_agent: str | None
    ) -> DownloadEvent:
        return cls(
            package_id=release_file.release.package_id,
            release_id=release_file.release_id,
            file_id=release_file.id,
            ip_address=ip_address[:MAX_IP_ADDRESS] if ip_address else None,
            user_agent=user_agent[:MAX_USER_AGENT] if user_agent else None,
            created_date=utcnow(),
        )


class DownloadRecorder:
    """Queues download events and writes them in batches, off the request path.

    ``sessions`` is asked for the session factory at every flush, so the recorder always
    writes where the application currently reads (tests swap the factory after start-up).
    """

    def __init__(
        self,
        sessions: Callable[[], sessionmaker[Session]],
        *,
        interval: float = 0.5,
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
                stored += self._write(batch)
        return stored

    def _take(self, limit: int) -> list[DownloadEvent]:
        batch: list[DownloadEvent] = []
        while self._pending and len(batch) < limit:
            batch.append(self._pending.popleft())
        return batch

    def _write(self, batch: Sequence[DownloadEvent]) -> int:
        try:
            self._insert(batch)
        except Exception:
            log.exception(
                "download recorder: a batch of %d rows failed; retrying singly", len(batch)
            )
            return self._write_singly(batch)
        self.written += len(batch)
        return len(batch)

    def _write_singly(self, batch: Sequence[DownloadEvent]) -> int:
        # One bad row (say, its project was deleted in between) must not cost the others.
        stored = 0
        for event in batch:
            try:
                self._insert([event])
            except Exception as error:
                self.lost += 1
                log.warning("download recorder: dropped %s: %s", event, error)
            else:
                stored += 1
        self.written += stored
        return stored

    def _insert(self, batch: Sequence[DownloadEvent]) -> None:
        with transaction(self._sessions()) as db:
            db.execute(sa.insert(Download), [asdict(event) for event in batch])
