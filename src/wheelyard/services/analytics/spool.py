"""The download spool: each answered download on local disk until its row is in the database.

A request only appends its event to an in-memory queue. A writer thread appends the queue
to this process's current segment file and syncs it, one ``fdatasync`` per group (every
``GROUP_INTERVAL``: a download is on disk within a few tens of milliseconds of its
answer). The recorder seals the current segment at each flush, stores the sealed segment's
events with a ``download_spool_segments`` marker in the same transaction, and only then
removes the file: a crash between the commit and the removal leaves a file whose marker
says it is stored already, so a replay never counts it twice.

Each process writes segments of its own (names carry the pid and a random part) and holds an
exclusive ``flock`` on every segment it has open, for as long as it has it. Segments whose
lock can be taken belong to a process that died: any worker may replay them (at start and
then now and then), and two workers never replay one, since only one can hold its lock.

A segment is created under a hidden name, locked, and only then renamed to its segment
name, so no other process can take a segment between its creation and its lock.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wheelyard.services.analytics.events import DownloadEvent

log = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".seg"
# A segment being created, not yet locked and named.
NEW_PREFIX = ".new-"
# How often the writer looks for queued events, writes them and syncs once: bounds the
# fsyncs per second under load, keeps the time from an answer to the disk far under 100 ms,
# and leaves the request path a bare deque.append (no lock, no wake-up).
GROUP_INTERVAL = 0.02
# Sealed segments a process holds at most, waiting for the database.
MAX_SEALED = 16


@dataclass
class Segment:
    """One segment file, with the descriptor that holds its lock."""

    path: Path
    fd: int
    size: int = 0  # bytes written and synced
    # What this process wrote to it, so its own flushes need not parse the file back;
    # None for a segment taken over from a process that died.
    events: list[DownloadEvent] | None = None

    @property
    def name(self) -> str:
        return self.path.name


class DownloadSpool:
    """The segment files of one process under ``folder``, and the thread that writes them.

    When the disk refuses a write (full, say), the events of that write go to ``unspooled``
    for the recorder to store straight from memory, as it did before there was a spool: a
    full disk costs the durability of those downloads, not the downloads themselves.
    ``write_failures`` counts such writes.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.write_failures = 0
        self.unspooled: deque[DownloadEvent] = deque()
        self._prefix = f"{os.getpid()}-{secrets.token_hex(6)}"
        self._numbers = iter(range(1 << 62))
        self._queue: deque[DownloadEvent] = deque()
        self._current: Segment | None = None
        self._sealed: list[Segment] = []
        self._lock = threading.Lock()  # a write and a seal never interleave
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def queued(self) -> int:
        return len(self._queue) + len(self.unspooled)

    def append(self, event: DownloadEvent) -> None:
        """Queue one event for the writer; never blocks."""
        self._queue.append(event)  # deque.append is atomic across threads

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="download-spool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the writer once it has written what is queued."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sync()

    def close(self) -> None:
        """Let go of every segment still held: another process, or the next start, replays them."""
        with self._lock:
            for segment in [*self._sealed, *([self._current] if self._current else [])]:
                os.close(segment.fd)
            self._sealed.clear()
            self._current = None

    def _run(self) -> None:
        while not self._stopping.wait(GROUP_INTERVAL):
            if not self._queue:
                continue
            try:
                self.sync()
            except Exception:  # the thread must outlive any one failure
                log.exception("download spool: write failed")

    def sync(self) -> int:
        """Write and sync every queued event to the current segment; returns how many."""
        with self._lock:
            batch: list[DownloadEvent] = []
            while self._queue:
                batch.append(self._queue.popleft())
            if not batch:
                return 0
            data = b"".join(encode(event) for event in batch)
            try:
                if self._current is None:
                    self._current = self._create()
                _write_all(self._current.fd, data)
                os.fdatasync(self._current.fd)
            except OSError as error:
                self.write_failures += 1
                self.unspooled.extend(batch)
                log.error(
                    "download spool: %d downloads kept in memory only, the disk refused: %s",
                    len(batch),
                    error,
                )
                self._cut_back()
                return 0
            self._current.size += len(data)
            assert self._current.events is not None
            self._current.events.extend(batch)
            return len(batch)

    def _cut_back(self) -> None:
        # Part of a failed write may be in the file: without it, the next line starts clean
        # (and these events, in memory now, are not stored twice).
        if self._current is None:
            return
        try:
            os.ftruncate(self._current.fd, self._current.size)
        except OSError:
            self._sealed.append(self._current)  # torn last line and all; read_segment skips it
            self._current = None

    def _create(self) -> Segment:
        name = f"{self._prefix}-{next(self._numbers):08d}{SEGMENT_SUFFIX}"
        hidden = self.folder / f"{NEW_PREFIX}{name}"
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path = self.folder / name
            os.rename(hidden, path)
        except BaseException:
            os.close(fd)
            hidden.unlink(missing_ok=True)
            raise
        return Segment(path, fd, events=[])

    def seal(self) -> list[Segment]:
        """End the current segment (the next write starts another); every sealed segment."""
        with self._lock:
            # While the database is away, the current segment grows instead of the number of
            # files (and descriptors) held.
            if self._current is not None and len(self._sealed) < MAX_SEALED:
                self._sealed.append(self._current)
                self._current = None
            return list(self._sealed)

    def remove(self, segment: Segment) -> None:
        """The segment's events are in the database: drop its file, then its lock."""
        segment.path.unlink(missing_ok=True)
        os.close(segment.fd)
        with self._lock:
            if segment in self._sealed:
                self._sealed.remove(segment)

    def release(self, segment: Segment) -> None:
        """Give up an orphan without removing it (the database is away): replayed later."""
        os.close(segment.fd)

    def orphans(self) -> Iterator[Segment]:
        """Segments of processes that died, each locked for the caller as it is yielded."""
        try:
            names = sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return
        for name in names:
            if name.startswith(self._prefix):
                continue
            path = self.folder / name
            if name.startswith(NEW_PREFIX):
                _remove_abandoned(path)
            elif name.endswith(SEGMENT_SUFFIX):
                segment = _take(path)
                if segment is not None:
                    yield segment


def _take(path: Path) -> Segment | None:
    """Lock the segment at ``path`` if its owner is gone and it is still there."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Its owner (or another replayer) may have removed it before letting go of the lock.
        if os.fstat(fd).st_ino != os.stat(path).st_ino:
            raise FileNotFoundError(path)
    except OSError as error:
        os.close(fd)
        if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.ENOENT):
            log.warning("download spool: cannot take %s: %s", path, error)
        return None
    return Segment(path, fd)


def _remove_abandoned(path: Path) -> None:
    # A segment its process died creating, before it was named: it holds no answered download.
    segment = _take(path)
    if segment is not None:
        path.unlink(missing_ok=True)
        os.close(segment.fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def encode(event: DownloadEvent) -> bytes:
    """One line of a segment."""
    fields = [
        event.created_date.isoformat(),
        event.package_id,
        event.release_id,
        event.file_id,
        event.ip_address,
        event.user_agent,
        event.version,
        event.packagetype,
    ]
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def read_segment(segment: Segment) -> list[DownloadEvent]:
    """The events of a segment; a last line cut short by a crash was never synced: skipped."""
    if segment.events is not None:
        return segment.events
    with open(segment.path, "rb") as file:
        data = file.read()
    events = []
    for line in data.split(b"\n")[:-1]:
        try:
            created, package_id, release_id, file_id, ip, agent, version, kind = json.loads(line)
            events.append(
                DownloadEvent(
                    package_id=package_id,
                    release_id=release_id,
                    file_id=file_id,
                    ip_address=ip,
                    user_agent=agent,
                    created_date=dt.datetime.fromisoformat(created),
                    version=version,
                    packagetype=kind,
                )
            )
        except (ValueError, TypeError):
            log.warning("download spool: an unreadable line in %s skipped", segment.path)
    return events
