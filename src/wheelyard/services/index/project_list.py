"""The ``/simple/`` project list at any size, kept per worker in chunks of consecutive names.

At a million projects the page is some 50 MB of HTML and as much JSON; rendering it whole
takes seconds, and any new project made the whole of it stale. So the list is cut into
chunks of about ``CHUNK_SIZE`` projects, each covering a range of project ids
(``[bound, next bound)``), rendered once in both representations and kept. A change drops
only the chunk its project falls in, and the next request re-reads that one range (an
index range scan) while every other chunk is served from memory. The page is then streamed
chunk by chunk, with its length and ETag known from the chunks before the first byte goes.

The first request of a worker reads the whole list in one ordered scan and cuts it into
chunks; a chunk that grows past twice its size is cut again when it is next rendered.
Chunks expire after ``max_age`` (as the page cache's pages do), at staggered times, so a
worker never re-reads the whole list at once.

Only public projects are in the chunks, which every reader shares. A reader with a role on
private projects gets the same chunks and, after them, one more rendered for that request
alone from their own private projects (``ListingPage.with_private``): a query of a handful of
rows, whatever the size of the index.

Python and the database must agree on the order of ids for a change to find its chunk:
PostgreSQL compares them byte-wise (``COLLATE "C"``, indexed by migration 0005), which is
Python's order for the ASCII that project ids are; SQLite compares bytes already.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package, ProjectStatus, Visibility
from wheelyard.services import journal
from wheelyard.services.index.project_page import API_VERSION

CHUNK_SIZE = 2000
# Rows fetched from the database at a time during the first, whole read.
FETCH_SIZE = 10_000

Row = tuple[str, str, int]  # (id, display name, last serial)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive projects, rendered: HTML anchor lines and JSON objects joined by commas."""

    html: bytes
    json: bytes
    serial: int  # the highest last_serial among its projects
    html_digest: bytes = field(init=False)
    json_digest: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "html_digest", _digest(self.html))
        object.__setattr__(self, "json_digest", _digest(self.json))


# Ids and names as project names are made (letters, digits, ".", "_", "-"): nothing in them
# needs escaping in HTML or JSON, so they are written as they are, several times faster.
_PLAIN = re.compile(r"[A-Za-z0-9._\-\n]*")


def render_chunk(rows: Sequence[Row]) -> Chunk:
    # The id is the normalized name, which is what the project page's URL is.
    if _PLAIN.fullmatch("\n".join(f"{project_id}\n{name}" for project_id, name, _ in rows)):
        anchors = "".join(
            f'    <a href="{project_id}/">{name}</a><br>\n' for project_id, name, _ in rows
        )
        objects = ",".join(
            f'{{"name":"{name}","_last-serial":{serial}}}' for _, name, serial in rows
        )
    else:
        anchors = "".join(
            f'    <a href="{html.escape(project_id)}/">{html.escape(name)}</a><br>\n'
            for project_id, name, _ in rows
        )
        document = json.dumps(
            [{"name": name, "_last-serial": serial} for _, name, serial in rows],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        objects = document[1:-1]  # without the list's brackets: chunks are joined
    return Chunk(
        html=anchors.encode(),
        json=objects.encode(),
        serial=max((serial for _id, _name, serial in rows), default=0),
    )


# --- the whole page ---------------------------------------------------------------------------


def html_head() -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        "    <title>Simple index</title>\n  </head>\n  <body>\n"
        "    <h1>Simple index</h1>\n"
    ).encode()


def html_tail(serial: int) -> bytes:
    # After the document, as on PyPI: mirrors read the serial the page was made at.
    return f"  </body>\n</html>\n<!--SERIAL {serial}-->\n".encode()


JSON_TAIL = b"]}"


def json_head(serial: int) -> bytes:
    meta = json.dumps({"api-version": API_VERSION, "_last-serial": serial}, separators=(",", ":"))
    return f'{{"meta":{meta},"projects":['.encode()


@dataclass(frozen=True, slots=True)
class ListingPage:
    """The list as one request sees it: every chunk, and the index's serial."""

    chunks: tuple[Chunk, ...]
    serial: int
    # With a chunk of private projects for one reader: not for shared caches.
    private: bool = False

    def parts(self, as_json: bool) -> list[bytes]:
        """The body, in pieces that are the chunks themselves (nothing is copied)."""
        if not as_json:
            return [html_head(), *(chunk.html for chunk in self.chunks), html_tail(self.serial)]
        parts = [json_head(self.serial)]
        for chunk in self.chunks:
            if chunk.json:
                if len(parts) > 1:
                    parts.append(b",")
                parts.append(chunk.json)
        parts.append(JSON_TAIL)
        return parts

    def with_private(self, db: Session, readable: frozenset[str]) -> ListingPage:
        """The list as a reader of the ``readable`` private projects sees it."""
        if not readable:
            return self
        private = render_chunk(read_private(db, readable))
        return ListingPage((*self.chunks, private), self.serial, private=True)

    def etag(self, media_type: str, as_json: bool) -> str:
        """A strong ETag over the body, from the chunks' digests rather than their bytes."""
        hasher = hashlib.blake2b(media_type.encode() + b"\0", digest_size=16)
        hasher.update(json_head(self.serial) if as_json else html_head())
        for chunk in self.chunks:
            hasher.update(chunk.json_digest if as_json else chunk.html_digest)
        if not as_json:
            hasher.update(html_tail(self.serial))
        return f'"{hasher.hexdigest()}"'


# --- reading ranges of projects ---------------------------------------------------------------


_PACKAGES = Package.__table__


def _ordered_id(db: Session) -> sa.ColumnElement[str]:
    if db.get_bind().dialect.name == "postgresql":
        return _PACKAGES.c.id.collate("C")
    return _PACKAGES.c.id


def read_range(db: Session, low: str, high: str | None) -> Iterator[Row]:
    """Projects with ``low <= id < high`` (``high`` None: to the end), in id order.

    A whole read is a million rows: they come straight from the driver's cursor, in batches
    (a server-side cursor on PostgreSQL), which takes half the time of result rows.
    """
    key = _ordered_id(db)
    columns = _PACKAGES.c
    query = sa.select(columns.id, columns.name, columns.last_serial).where(
        key >= low,
        columns.visibility == Visibility.PUBLIC.value,
        # PEP 792: a quarantined project leaves the list (its status change is journalled,
        # which drops the chunk that held it).
        columns.status != ProjectStatus.QUARANTINED.value,
    )
    if high is not None:
        query = query.where(key < high)
    connection = db.connection()
    compiled = query.order_by(key).compile(dialect=connection.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = [compiled.params[name] for name in compiled.positiontup]
    raw: Any = connection.connection.dbapi_connection
    postgres = connection.dialect.name == "postgresql"
    cursor = raw.cursor(name="simple_listing") if postgres else raw.cursor()
    try:
        cursor.execute(str(compiled), params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            yield from batch
    finally:
        cursor.close()


def read_private(db: Session, readable: frozenset[str]) -> list[Row]:
    """The private projects among ``readable``, in id order."""
    columns = _PACKAGES.c
    query = (
        sa.select(columns.id, columns.name, columns.last_serial)
        .where(
            columns.id.in_(sorted(readable)),
            columns.visibility == Visibility.PRIVATE.value,
            columns.status != ProjectStatus.QUARANTINED.value,
        )
        .order_by(columns.id)
    )
    return [(row.id, row.name, row.last_serial) for row in db.execute(query)]


def _cut(rows: Iterable[Row], size: int) -> Iterator[tuple[str, list[Row]]]:
    """Consecutive runs of ``size`` rows, each with its first id."""
    run: list[Row] = []
    for row in rows:
        run.append(row)
        if len(run) == size:
            yield run[0][0], run
            run = []
    if run:
        yield run[0][0], run


# --- the per-worker chunks ----------------------------------------------------------------------


@dataclass(slots=True)
class _Slot:
    chunk: Chunk | None = None
    born: float = 0.0
    # Bumped by every drop: a render that began before one is not stored.
    version: int = 0


class ProjectListing:
    def __init__(
        self,
        *,
        chunk_size: int = CHUNK_SIZE,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chunk_size = chunk_size
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        # One whole read at a time: concurrent first requests wait for it, not repeat it.
        self._build_lock = threading.Lock()
        self._bounds: list[str] = []  # sorted; the first is "" (below every id)
        self._slots: dict[str, _Slot] = {}
        # Ids changed while a whole read runs: their chunks are dropped once it is stored.
        self._changed_during_build: list[str] | None = None

    # --- invalidation (called by the page cache) ------------------------------------------

    def drop(self, package_ids: Iterable[str]) -> None:
        with self._lock:
            for package_id in package_ids:
                self._drop(package_id)

    def drop_older_than(self, changes: Mapping[str, int]) -> None:
        """Drop the chunks holding these projects, unless rendered after the change."""
        with self._lock:
            for package_id, serial in changes.items():
                slot = self._slot_of(package_id)
                if slot is not None and slot.chunk is not None and slot.chunk.serial < serial:
                    self._drop(package_id)

    def clear(self) -> None:
        with self._lock:
            self._bounds = []
            self._slots = {}

    def _slot_of(self, package_id: str) -> _Slot | None:
        if not self._bounds:
            return None
        return self._slots[self._bounds[bisect.bisect_right(self._bounds, package_id) - 1]]

    def _drop(self, package_id: str) -> None:
        if self._changed_during_build is not None:
            self._changed_during_build.append(package_id)
        slot = self._slot_of(package_id)
        if slot is not None:
            slot.chunk = None
            slot.version += 1

    # --- reading ----------------------------------------------------------------------------

    def page(self, db: Session) -> ListingPage:
        """Every chunk, rendering from ``db`` those missing or expired."""
        serial = journal.last_serial(db)
        if not self._bounds:
            with self._build_lock:
                if not self._bounds:
                    return ListingPage(self._build(db), serial)
        chunks = self._current(db)
        return ListingPage(chunks, serial)

    def _build(self, db: Session) -> tuple[Chunk, ...]:
        with self._lock:
            self._changed_during_build = []
        try:
            runs = [
                (first, render_chunk(rows))
                for first, rows in _cut(read_range(db, "", None), self.chunk_size)
            ] or [("", render_chunk([]))]
        finally:
            with self._lock:
                changed, self._changed_during_build = self._changed_during_build, None
        now = self._clock()
        with self._lock:
            self._bounds = ["", *(first for first, _chunk in runs[1:])]
            # Staggered birth times: the chunks expire one by one, not all at once.
            self._slots = {
                bound: _Slot(chunk, now - self.max_age / 2 * index / len(runs))
                for index, (bound, (_first, chunk)) in enumerate(
                    zip(self._bounds, runs, strict=True)
                )
            }
            for package_id in changed or []:
                self._drop(package_id)
        return tuple(chunk for _first, chunk in runs)

    def _current(self, db: Session) -> tuple[Chunk, ...]:
        now = self._clock()
        with self._lock:
            bounds = list(self._bounds)
            wanted: list[tuple[int, int]] = []  # (index into bounds, slot version)
            chunks: list[Chunk | None] = []
            for index, bound in enumerate(bounds):
                slot = self._slots[bound]
                fresh = slot.chunk is not None and now - slot.born <= self.max_age
                chunks.append(slot.chunk if fresh else None)
                if not fresh:
                    wanted.append((index, slot.version))
        for index, version in wanted:
            high = bounds[index + 1] if index + 1 < len(bounds) else None
            rows = list(read_range(db, bounds[index], high))
            chunks[index] = self._store(bounds[index], version, rows, now)
        return tuple(chunk for chunk in chunks if chunk is not None)

    def _store(self, bound: str, version: int, rows: list[Row], now: float) -> Chunk:
        """Keep a freshly read range (cut again if it grew too big); return it rendered whole."""
        whole = render_chunk(rows)
        with self._lock:
            slot = self._slots.get(bound)
            if slot is None or slot.version != version:
                return whole  # changed while it was read: right for this request, not to keep
            if len(rows) <= 2 * self.chunk_size:
                slot.chunk, slot.born = whole, now
                return whole
            for offset, (first, run) in enumerate(_cut(rows, self.chunk_size)):
                if offset == 0:
                    slot.chunk, slot.born, slot.version = render_chunk(run), now, version + 1
                else:
                    bisect.insort(self._bounds, first)
                    self._slots[first] = _Slot(render_chunk(run), now)
        return whole
