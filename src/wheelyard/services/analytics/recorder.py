"""Downloads: one ``downloads`` row per served file, and the daily rollups every stats page
reads.

A download must not wait for the database: the file handler hands a ``DownloadEvent`` to
the ``DownloadRecorder``, which only appends it to an in-memory queue. A background thread
writes the queue in batches at least once a second, and once more when the application
stops. Each batch is one transaction: the raw rows (executemany on SQLite, COPY on
PostgreSQL) and their counts added to the rollups (``download_counts``,
``download_breakdowns`` and its sums by month, ``download_breakdown_months``, the site's
``download_totals`` and the 30-day sums of ``download_recent``), aggregated in Python first
so a batch of thousands of downloads touches a few rollup rows. Stats never scan raw rows,
so raw rows can be pruned (``prune_downloads``) while the rollups are kept;
``rebuild_rollups`` recomputes rollups from raw rows for data that arrived another way.
"""

from __future__ import annotations

import datetime as dt
import logging
import operator
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.data.db_session import database_unavailable, transaction
from wheelyard.data.download import Download
from wheelyard.data.download_breakdown import Dimension, DownloadBreakdown, DownloadBreakdownMonth
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.download_total import DownloadTotal
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import clock
from wheelyard.services.analytics import recent, rollup_rows
from wheelyard.services.analytics.user_agents import parse_user_agent_cached
from wheelyard.services.index.served_files import ServedFile

log = logging.getLogger(__name__)

# Column sizes of the downloads table; longer client-supplied values are cut to fit.
MAX_IP_ADDRESS = 64
MAX_USER_AGENT = 1024
# Rows classified per UPDATE round when a rebuild meets rows stored without categories.
CLASSIFY_CHUNK = 5_000

DOWNLOADS = cast(sa.Table, Download.__table__)
COUNTS = cast(sa.Table, DownloadCount.__table__)
BREAKDOWNS = cast(sa.Table, DownloadBreakdown.__table__)
MONTHS = cast(sa.Table, DownloadBreakdownMonth.__table__)
TOTALS = cast(sa.Table, DownloadTotal.__table__)
# The raw column each breakdown dimension counts by.
DIMENSION_COLUMNS = {
    Dimension.VERSION: "version",
    Dimension.PACKAGETYPE: "packagetype",
    Dimension.INSTALLER: "installer",
    Dimension.PYTHON: "python_minor",
    Dimension.SYSTEM: "system",
}
DIMENSION_NAMES = tuple(dimension.value for dimension in DIMENSION_COLUMNS)
_categories_of = operator.itemgetter("package_id", *DIMENSION_COLUMNS.values())
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


def categories(user_agent: str | None) -> dict[str, Any]:
    """The raw row's category columns for a download by ``user_agent``."""
    # Parsed here, in the writer, not on the request path; the cache makes repeats free.
    client = parse_user_agent_cached(user_agent)
    return {
        "installer": client.installer,
        "python_minor": client.python_minor,
        "system": client.system_category,
        "is_mirror": client.is_mirror,
    }


def raw_row(event: DownloadEvent) -> dict[str, Any]:
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
    if _dialect(db) == "postgresql" and len(rows) > 1:
        # COPY streams the batch in one round trip, several times faster than executemany.
        driver = db.connection().connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(COPY_DOWNLOADS) as copy:
            for row in rows:
                copy.write_row([row[column] for column in RAW_COLUMNS])
    else:
        db.execute(sa.insert(DOWNLOADS), rows)


def add_to_rollups(db: Session, rows: Iterable[tuple[Mapping[str, Any], int]]) -> None:
    """Add ``(raw row, how many such downloads)`` pairs to the daily rollups, by upsert.

    The recorder and the rebuild both count through here, so they cannot disagree.
    """
    # First, as every writer does: it may move the 30-day window, and it makes concurrent
    # writers take turns (see services.analytics.recent).
    window = recent.settle_window(db)
    # Downloads of one batch share a few combinations of categories: count those first, so
    # the per-dimension counting below runs per combination, not per download.
    combinations: Counter[tuple[Any, ...]] = Counter()
    for row, downloads in rows:
        day, mirror = row["created_date"].date(), bool(row["is_mirror"])
        combinations[(day, mirror, *_categories_of(row))] += downloads
    totals: Counter[tuple[str, dt.date, bool]] = Counter()
    breakdowns: Counter[tuple[str, str, dt.date, str, bool]] = Counter()
    for (day, mirror, package_id, *values), downloads in combinations.items():
        totals[package_id, day, mirror] += downloads
        for dimension, value in zip(DIMENSION_NAMES, values, strict=True):
            breakdowns[package_id, dimension, day, value or "", mirror] += downloads
    site: Counter[tuple[dt.date, bool]] = Counter()
    for (_package_id, day, mirror), downloads in totals.items():
        site[day, mirror] += downloads
    # Sorted keys: workers flushing at once lock rollup rows in the same order, so on
    # PostgreSQL they wait for each other instead of deadlocking.
    rollup_rows.add_downloads(
        db,
        TOTALS,
        [{"day": d, "is_mirror": m, "downloads": n} for (d, m), n in sorted(site.items())],
    )
    recent.add(db, window, totals)
    rollup_rows.add_downloads(
        db,
        COUNTS,
        [
            {"package_id": p, "day": d, "is_mirror": m, "downloads": n}
            for (p, d, m), n in sorted(totals.items())
        ],
    )
    rollup_rows.add_downloads(
        db,
        BREAKDOWNS,
        [
            {
                "package_id": p,
                "dimension": dim,
                "day": d,
                "category": c,
                "is_mirror": m,
                "downloads": n,
            }
            for (p, dim, d, c, m), n in sorted(breakdowns.items())
        ],
    )
    _add_to_months(db, breakdowns)


def month_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s month: the key of its ``download_breakdown_months`` row."""
    return day.replace(day=1)


def _add_to_months(
    db: Session, breakdowns: Mapping[tuple[str, str, dt.date, str, bool], int]
) -> None:
    """Add daily breakdown counts (negative ones take away) to their months' rows."""
    months: Counter[tuple[str, str, dt.date, str, bool]] = Counter()
    for (package_id, dimension, day, category, mirror), downloads in breakdowns.items():
        months[package_id, dimension, month_of(day), category, mirror] += downloads
    rollup_rows.add_downloads(
        db,
        MONTHS,
        [
            {
                "package_id": p,
                "dimension": dim,
                "month": month,
                "category": c,
                "is_mirror": m,
                "downloads": n,
            }
            for (p, dim, month, c, m), n in sorted(months.items())
            if n
        ],
    )


def _dialect(db: Session) -> str:
    return db.get_bind().dialect.name


# --- rebuilding and pruning -------------------------------------------------------------------


def raw_day_range(db: Session) -> tuple[dt.date, dt.date] | None:
    """The first and last UTC day that has raw rows, or None when there are none."""
    first, last = db.execute(
        sa.select(sa.func.min(DOWNLOADS.c.created_date), sa.func.max(DOWNLOADS.c.created_date))
    ).one()
    if first is None or last is None:
        return None
    return first.date(), last.date()


def rebuild_days(
    db: Session, since: dt.date | None = None, until: dt.date | None = None
) -> list[dt.date]:
    """The days a rebuild from ``since`` recomputes, oldest first.

    Never a day before the oldest raw row: older days' raw rows have been pruned, and
    recomputing them would wipe counts that exist only in the rollups.
    """
    found = raw_day_range(db)
    if found is None:
        return []
    first, last = found
    start = max(since, first) if since is not None else first
    end = until if until is not None else max(last, clock.today())
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def rebuild_rollups(db: Session, since: dt.date | None = None, until: dt.date | None = None) -> int:
    """Recompute the rollups of every day from ``since`` (default: the oldest raw row).

    Returns the number of raw rows counted. All in ``db``'s transaction; the CLI commits
    ``rebuild_day`` by day instead, so the recorder is never held up for long.
    """
    return sum(rebuild_day(db, day) for day in rebuild_days(db, since, until))


def rebuild_day(db: Session, day: dt.date) -> int:
    """Replace one UTC day's rollups with counts of its raw rows; returns how many rows.

    It reads before it writes, so on SQLite ``db`` must hold the write lock from its start
    (``db_session.transaction`` with ``writes``, as the CLI's is): a deferred transaction
    that had read before a flush committed could not take the lock afterwards.
    """
    # The window's lock before the tables': the order every writer takes them in.
    window = recent.settle_window(db)
    _hold_off_recorders(db)
    old_counts = db.execute(
        sa.select(COUNTS.c.package_id, COUNTS.c.is_mirror, COUNTS.c.downloads).where(
            COUNTS.c.day == day
        )
    )
    recent.add(db, window, {(p, day, bool(m)): -n for p, m, n in old_counts})
    db.execute(sa.delete(COUNTS).where(COUNTS.c.day == day))
    db.execute(sa.delete(TOTALS).where(TOTALS.c.day == day))
    _take_day_from_months(db, day)
    db.execute(sa.delete(BREAKDOWNS).where(BREAKDOWNS.c.day == day))
    start = clock.start_of(day)
    in_day = sa.and_(
        DOWNLOADS.c.created_date >= start,
        DOWNLOADS.c.created_date < start + dt.timedelta(days=1),
    )
    classify_raw_rows(db, in_day)
    # One scan of the day, grouped by every category at once: a few hundred groups to count
    # in Python rather than one scan per rollup table and dimension.
    categories = [DOWNLOADS.c[column] for column in ("package_id", *DIMENSION_COLUMNS.values())]
    grouped = db.execute(
        sa.select(*categories, DOWNLOADS.c.is_mirror, sa.func.count())
        .where(in_day)
        .group_by(*categories, DOWNLOADS.c.is_mirror)
    ).all()
    add_to_rollups(db, (({**row._mapping, "created_date": start}, row[-1]) for row in grouped))
    # Categories the day no longer has leave rows of zero in its month, projects in the window.
    db.execute(sa.delete(MONTHS).where(MONTHS.c.month == month_of(day), MONTHS.c.downloads == 0))
    recent.drop_empty(db)
    return sum(row[-1] for row in grouped)


def _take_day_from_months(db: Session, day: dt.date) -> None:
    """Subtract one day's breakdown rows from its month, before they are replaced."""
    b = BREAKDOWNS.c
    old = db.execute(
        sa.select(b.package_id, b.dimension, b.category, b.is_mirror, b.downloads).where(
            b.day == day
        )
    )
    _add_to_months(db, {(p, dim, day, c, bool(m)): -n for p, dim, c, m, n in old})


def _hold_off_recorders(db: Session) -> None:
    """Make concurrent flushes wait until this transaction ends (PostgreSQL).

    A flush that committed between our reading the raw rows and our replacing the rollups
    would be lost (its upsert deleted, its rows unread) or counted twice. Held off, it
    commits after us and adds its downloads to the counts we wrote; meanwhile downloads
    queue in memory. SQLite needs nothing: our first write takes its only write lock.
    """
    if _dialect(db) == "postgresql":
        db.execute(
            sa.text(
                "LOCK TABLE download_counts, download_breakdowns, download_breakdown_months,"
                " download_totals, download_recent IN SHARE ROW EXCLUSIVE MODE"
            )
        )


def classify_raw_rows(db: Session, where: sa.ColumnElement[bool]) -> int:
    """Fill the category columns of raw rows stored without them (before they existed, or
    imported); returns how many rows were filled.

    Version and file type come from the release and file the row still links to; rows whose
    release is gone count as an unknown version.
    """
    from_links = {
        "version": sa.func.coalesce(
            DOWNLOADS.c.version,
            sa.select(Release.version)
            .where(Release.id == DOWNLOADS.c.release_id)
            .scalar_subquery(),
        ),
        "packagetype": sa.func.coalesce(
            DOWNLOADS.c.packagetype,
            sa.select(ReleaseFile.packagetype)
            .where(ReleaseFile.id == DOWNLOADS.c.file_id)
            .scalar_subquery(),
        ),
    }
    filled = 0
    while True:
        # Classified rows leave the partial index this reads, so each round starts at the
        # rows still to do.
        chunk = db.execute(
            sa.select(DOWNLOADS.c.id, DOWNLOADS.c.user_agent)
            .where(where, DOWNLOADS.c.installer.is_(None))
            .order_by(DOWNLOADS.c.created_date)
            .limit(CLASSIFY_CHUNK)
        ).all()
        if not chunk:
            return filled
        # A chunk holds a few distinct agents: one UPDATE per agent, not one per row.
        by_agent: dict[str | None, list[int]] = defaultdict(list)
        for row_id, agent in chunk:
            by_agent[agent].append(row_id)
        for agent, row_ids in by_agent.items():
            # categories() always names an installer: these rows leave the query for good.
            db.execute(
                sa.update(DOWNLOADS)
                .where(DOWNLOADS.c.id.in_(row_ids))
                .values({**from_links, **categories(agent)})
            )
        filled += len(chunk)


def retention_cutoff(retention_days: int, today: dt.date | None = None) -> dt.datetime:
    """Where pruning stops: the start of the oldest UTC day kept.

    Whole days, so the oldest day left is complete and ``rebuild_rollups`` can trust it.
    """
    today = today if today is not None else clock.today()
    return clock.start_of(today - dt.timedelta(days=retention_days))


def unclassified_before(db: Session, before: dt.datetime) -> int:
    """Raw rows older than ``before`` that no rollup counts yet (see ``classify_raw_rows``)."""
    return (
        db.scalar(
            sa.select(sa.func.count())
            .select_from(DOWNLOADS)
            .where(DOWNLOADS.c.created_date < before, DOWNLOADS.c.installer.is_(None))
        )
        or 0
    )


def prune_downloads(db: Session, before: dt.datetime, limit: int = 50_000) -> int:
    """Delete up to ``limit`` raw rows older than ``before``; returns how many went.

    A limit, so that a caller can commit as it goes and never hold the write lock long.
    Rollups are untouched: they keep the counts forever.
    """
    oldest = (
        sa.select(DOWNLOADS.c.id)
        .where(DOWNLOADS.c.created_date < before)
        .order_by(DOWNLOADS.c.created_date)
        .limit(limit)
    )
    result = db.execute(sa.delete(DOWNLOADS).where(DOWNLOADS.c.id.in_(oldest.scalar_subquery())))
    return cast(sa.CursorResult[Any], result).rowcount


# --- the recorder -----------------------------------------------------------------------------

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
                        "download recorder: database unavailable, %d downloads wait: %s",
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
            if database_unavailable(error):
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
                if database_unavailable(error):
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


class _DatabaseUnavailable(Exception):
    """A write failed because the database cannot be reached; ``unwritten`` wait for it."""

    def __init__(self, unwritten: Sequence[DownloadEvent]) -> None:
        super().__init__(f"{len(unwritten)} downloads unwritten")
        self.unwritten = unwritten
