"""A per-worker cache of rendered pages, kept honest by the journal.

Simple and JSON API pages are rendered once (and what downloads need of each file is looked
up once) and then served from memory, without touching
the database, until their project changes. Every change writes a journal row in its own
transaction, so each worker reads the journal since the serial it last saw, at most once
per ``check_interval`` (one indexed query, run by one request while the others are still
answered from the cache), and drops the pages of the projects named there.
Commits made through this worker's own sessions drop pages at once (``watch``), so whoever
uploads sees the upload on their next request. The other workers of the same server learn of
such a commit at once too, through a ``ChangeSignal``: a file whose modification time the
committing worker bumps, and which every worker stats before serving a cached page. Workers
on other machines see the change at their next journal check, within ``check_interval``.

On PostgreSQL, serials come from a sequence and transactions may commit out of serial order:
an entry can become visible after a higher one was already seen. Each check therefore
re-reads the last ``replay_window`` seconds of the journal and drops only pages rendered
before the entry (their serial is lower); ``max_age`` bounds whatever might still slip by.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from wheelyard.data.journal import JournalEntry
from wheelyard.services import journal
from wheelyard.services.index.project_list import ProjectListing
from wheelyard.services.index.served_files import ServedFiles

_CHANGED = "wheelyard.page_cache.changed"


def etag_for(body: bytes, media_type: str) -> str:
    """A strong ETag per representation: the same bytes under another type differ."""
    digest = hashlib.blake2b(media_type.encode() + b"\0" + body, digest_size=16)
    return f'"{digest.hexdigest()}"'


_PRIVATE = "private"


def private_variant(variant: Hashable) -> Hashable:
    """The variant a private project's page is stored under: asked for only by a handler
    that has checked the reader's role (api/cached_pages.py), never by the fast path."""
    return (_PRIVATE, variant)


def is_private_variant(variant: Hashable) -> bool:
    return isinstance(variant, tuple) and len(variant) == 2 and variant[0] == _PRIVATE


@dataclass(frozen=True, slots=True)
class RenderedPage:
    body: bytes
    media_type: str
    serial: int  # the journal serial the page reflects (the project's last_serial)
    # A private project's page: stored only under a ``private_variant``, which the fast path
    # never asks for (it serves without asking who reads), and marked private for the HTTP
    # caches in between.
    private: bool = False
    # Response headers of this page beyond the usual ones (an upstream page says it is
    # fresh and what it holds back), sent by both the handler and the fast path.
    headers: tuple[tuple[str, str], ...] = ()
    # Seconds the page may be served from the cache when that is shorter than the cache's
    # own limit (an upstream page: what is left of its TTL); None for the cache's limit.
    fresh_for: float | None = None
    etag: str = field(init=False)
    # What the HTTP layer builds once per page and reuses for every request that gets it
    # (the response headers of api/fast_path.py), keyed as that layer likes.
    prepared: dict[Hashable, object] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", etag_for(self.body, self.media_type))


@dataclass(frozen=True, slots=True)
class Ticket:
    """Taken before reading the database: a page rendered from stale reads is not stored."""

    generation: int
    taken_at: float


@dataclass(frozen=True, slots=True)
class _Cached:
    page: RenderedPage
    born: float


class ChangeSignal:
    """A file the workers of one server share: touched after a commit that changed the index.

    A stat costs a microsecond or two, far less than the journal query it saves, and needs
    nothing the workers do not already have (they share the var directory).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self._mtime()

    def _mtime(self) -> int:
        try:
            return os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return 0

    def raise_(self) -> None:
        try:
            self.path.touch()
        except OSError:
            return  # the journal check still catches the change within its interval
        self._seen = self._mtime()  # this worker has already dropped its own pages

    def raised(self) -> bool:
        """Whether another worker raised the signal since this one last looked."""
        mtime = self._mtime()
        if mtime == self._seen:
            return False
        self._seen = mtime
        return True


# What a stored page costs beyond its body: the entry, its ETag and its prepared headers.
PAGE_OVERHEAD = 512
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
# A claimed journal check not done after this long (its request failed) is claimed again.
POLL_TIMEOUT = 2.0


def page_size(page: RenderedPage) -> int:
    """The bytes a page is counted for against the cache's bound."""
    return len(page.body) + PAGE_OVERHEAD


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What the cache holds and how it has served, for /metrics."""

    bytes: int
    entries: int
    max_bytes: int
    hits: int
    misses: int


class PageCache:
    """Rendered pages by project key and variant, bounded in bytes (least recently used
    projects go first); variants are a few per project, chosen by the server (never a
    value a client may pick freely), and ``max_variants`` caps them all the same."""

    def __init__(
        self,
        *,
        signal: ChangeSignal | None = None,
        check_interval: float = 1.0,
        replay_window: float = 10.0,
        max_age: float = 300.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_variants: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.check_interval = check_interval
        self.replay_window = replay_window
        self.max_age = max_age
        self.max_bytes = max_bytes
        self.max_variants = max_variants
        self._clock = clock
        self._signal = signal
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, dict[Hashable, _Cached]] = OrderedDict()
        self._bytes = 0
        self._entries = 0
        self._hits = 0
        self._misses = 0
        # The /simple/ list of every project, in chunks that changes drop one by one.
        self.listing = ProjectListing(max_age=max_age, clock=clock)
        # What downloads need of each file, dropped with its package's pages.
        self.files = ServedFiles()
        # Bumped by every invalidation; a render that started before one is not stored.
        self._generation = 0
        self._next_check = float("-inf")
        # When the periodic journal check a cached answer started began; None when none runs.
        self._polling_since: float | None = None
        # (time, highest serial seen then), oldest first, for the replay window.
        self._marks: deque[tuple[float, int]] = deque()
        self._note_changes = _journal_recorder()
        self._apply_changes = self._invalidator()

    # --- reading and storing ---------------------------------------------------------------

    def ticket(self) -> Ticket:
        with self._lock:
            return Ticket(self._generation, self._clock())

    def lookup(
        self, key: str, variant: Hashable, *, count_miss: bool = True
    ) -> RenderedPage | None:
        """The page, or None. ``count_miss=False`` for a look that another follows on a miss
        (the fast path's, before the handler's), so a request counts one miss at most."""
        now = self._clock()
        with self._lock:
            variants = self._pages.get(key)
            cached = variants.get(variant) if variants is not None else None
            if cached is None or variants is None:
                self._misses += count_miss
                return None
            limit = self.max_age if cached.page.fresh_for is None else cached.page.fresh_for
            if now - cached.born > min(limit, self.max_age):
                self._forget(variants, variant)
                self._misses += count_miss
                return None
            self._pages.move_to_end(key)
            self._hits += 1
            return cached.page

    def store(self, ticket: Ticket, key: str, pages: Mapping[Hashable, RenderedPage]) -> None:
        with self._lock:
            if ticket.generation != self._generation:
                return  # something changed while the page was read: let the next one store
            if any(page.private != is_private_variant(v) for v, page in pages.items()):
                return  # a private page under a public variant (or the reverse): never
            if sum(page_size(page) for page in pages.values()) > self.max_bytes:
                return  # larger than the whole cache: served, never kept
            variants = self._pages.setdefault(key, {})
            if len(variants.keys() | pages.keys()) > self.max_variants:
                self._drop_key(key)
                variants = self._pages.setdefault(key, {})
            for variant, page in pages.items():
                if variant in variants:
                    self._forget(variants, variant)
                variants[variant] = _Cached(page, ticket.taken_at)
                self._bytes += page_size(page)
                self._entries += 1
            self._pages.move_to_end(key)
            while self._bytes > self.max_bytes:
                oldest = next(iter(self._pages))
                self._drop_key(oldest)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._bytes, self._entries, self.max_bytes, self._hits, self._misses)

    def _forget(self, variants: dict[Hashable, _Cached], variant: Hashable) -> None:
        """Remove one variant, keeping the counts (the lock is held)."""
        cached = variants.pop(variant)
        self._bytes -= page_size(cached.page)
        self._entries -= 1

    def _drop_key(self, key: str) -> None:
        """Remove every variant of ``key`` (the lock is held)."""
        variants = self._pages.pop(key, None)
        if variants:
            self._bytes -= sum(page_size(cached.page) for cached in variants.values())
            self._entries -= len(variants)

    def invalidate(self, keys: Iterable[str]) -> None:
        """Forget the pages of ``keys`` and their part of the project list."""
        keys = set(keys)
        with self._lock:
            self._generation += 1
            for key in keys:
                self._drop_key(key)
            self.listing.drop(keys)
            self.files.drop(keys)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._pages.clear()
            self._bytes = self._entries = 0
            self.listing.clear()
            self.files.clear()

    # --- following the journal -------------------------------------------------------------

    def check_due(self) -> bool:
        """Whether the next request should read the journal first (no lock, no database)."""
        if self._signal is not None and self._signal.raised():
            self._next_check = float("-inf")  # another worker here committed a change
            return True
        return self._clock() >= self._next_check

    def must_read_journal_first(self) -> bool:
        """Whether cached answers wait for the journal: another worker of this server
        committed a change (its signal), or this worker has not read the journal yet.

        The periodic check for other machines' changes holds nothing back: one request claims
        it (``claim_poll``) and reads the journal on the slow path, while the others are still
        answered from the cache, rather than every request that arrives meanwhile.
        """
        if self._signal is not None and self._signal.raised():
            self._next_check = float("-inf")
        return self._next_check == float("-inf")

    def claim_poll(self) -> bool:
        """True for one caller when the periodic check is due and nobody has claimed it (a
        claim not followed by ``refresh`` within ``POLL_TIMEOUT`` is taken to have failed)."""
        now = self._clock()
        if now < self._next_check:
            return False
        with self._lock:
            running = self._polling_since
            if running is not None and now - running < POLL_TIMEOUT:
                return False
            self._polling_since = now
            return True

    def refresh(self, db: Session) -> None:
        """Drop the pages of every project the journal names since the last look."""
        now = self._clock()
        with self._lock:
            self._polling_since = None
            if now < self._next_check:
                return  # another request just looked
            self._next_check = now + self.check_interval
            since = self._replay_start(now)
        if since is None:
            changes: dict[str, int] = {}
            highest = journal.last_serial(db)
        else:
            changes = _changes_since(db, since)
            highest = max(changes.values(), default=since)
        with self._lock:
            seen_before = self._marks[-1][1] if self._marks else None
            if seen_before is not None:
                highest = max(highest, seen_before)
            self._marks.append((now, highest))
            if changes:
                self._drop_older_than(changes)
        if self._signal is not None and seen_before is not None and highest > seen_before:
            # Changes made on another machine: the first worker here to read them tells the
            # others, so the whole server moves on together rather than one worker at a time.
            self._signal.raise_()

    def _replay_start(self, now: float) -> int | None:
        """The highest serial already seen ``replay_window`` seconds ago (or the first one)."""
        marks = self._marks
        while len(marks) > 1 and marks[1][0] <= now - self.replay_window:
            marks.popleft()
        return marks[0][1] if marks else None

    def _drop_older_than(self, changes: Mapping[str, int]) -> None:
        self.listing.drop_older_than(changes)
        self.files.drop(changes)
        dropped = False
        for key, serial in changes.items():
            variants = self._pages.get(key)
            if not variants:
                continue
            stale = [variant for variant, cached in variants.items() if cached.page.serial < serial]
            for variant in stale:
                self._forget(variants, variant)
            dropped = dropped or bool(stale)
        if dropped:
            self._generation += 1

    # --- this worker's own commits ---------------------------------------------------------

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Drop a project's pages as soon as a session of ``sessions`` commits a journal entry."""
        if not event.contains(sessions, "after_flush", self._note_changes):
            event.listen(sessions, "after_flush", self._note_changes)
            event.listen(sessions, "after_commit", self._apply_changes)

    def _invalidator(self) -> Callable[[Session], None]:
        def apply_changes(session: Session) -> None:
            changed = session.info.pop(_CHANGED, None)
            if changed:
                self.invalidate(changed)
                if self._signal is not None:
                    self._signal.raise_()

        return apply_changes


def _journal_recorder() -> Callable[[Session, Any], None]:
    def note_changes(session: Session, _flush_context: Any) -> None:
        # session.new still lists what this flush inserted (after_flush runs before it is
        # cleared); the set waits in the session until its transaction commits.
        changed = {entry.package_id for entry in session.new if isinstance(entry, JournalEntry)}
        if changed:
            session.info.setdefault(_CHANGED, set()).update(changed)

    return note_changes


def _changes_since(db: Session, serial: int) -> dict[str, int]:
    """Each package with journal entries above ``serial``, with its highest one."""
    changes: dict[str, int] = {}
    for package_id, entry in journal.entries_since(db, serial):
        if entry > changes.get(package_id, 0):
            changes[package_id] = entry
    return changes
