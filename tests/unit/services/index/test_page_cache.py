from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.clock import Clock
from tests.helpers.factories import Factory
from wheelyard.data.journal import JournalEntry
from wheelyard.services import journal
from wheelyard.services.index.page_cache import (
    PAGE_OVERHEAD,
    ChangeSignal,
    PageCache,
    RenderedPage,
    private_variant,
)


@pytest.fixture
def cache(clock: Clock) -> PageCache:
    return PageCache(check_interval=1.0, replay_window=10.0, max_age=300.0, clock=clock)


def page(serial: int = 0, body: bytes = b"body") -> RenderedPage:
    return RenderedPage(body, "text/html", serial)


def test_stored_pages_are_found(cache: PageCache) -> None:
    cache.store(cache.ticket(), "demo", {"html": page(), "json": page(body=b"{}")})
    assert cache.lookup("demo", "html") == page()
    assert cache.lookup("demo", "json") == page(body=b"{}")
    assert cache.lookup("demo", "other") is None
    assert cache.lookup("other", "html") is None


def test_etags_differ_by_body_and_by_type() -> None:
    assert page().etag == page().etag
    assert page().etag != page(body=b"other").etag
    assert page().etag != RenderedPage(b"body", "application/vnd.pypi.simple.v1+html", 0).etag


def listed(cache: PageCache, db: Session) -> list[str]:
    """The names on the cached /simple/ list (its missing chunks read from ``db``)."""
    document = json.loads(b"".join(cache.listing.page(db).parts(as_json=True)))
    return [project["name"] for project in document["projects"]]


def test_invalidate_drops_the_project_and_its_part_of_the_list(
    cache: PageCache, db: Session, make: Factory
) -> None:
    for key in ("demo", "other"):
        cache.store(cache.ticket(), key, {"html": page()})
    listed(cache, db)
    make.package("demo-two", versions=())
    assert "demo-two" not in listed(cache, db)

    cache.invalidate(["demo-two"])
    assert cache.lookup("other", "html") is not None
    assert "demo-two" in listed(cache, db)
    cache.invalidate(["demo"])
    assert cache.lookup("demo", "html") is None


def test_a_page_read_before_an_invalidation_is_not_stored(cache: PageCache) -> None:
    ticket = cache.ticket()
    cache.invalidate(["demo"])  # a commit lands while the page is being rendered
    cache.store(ticket, "demo", {"html": page()})
    assert cache.lookup("demo", "html") is None


def test_pages_expire_after_max_age(cache: PageCache, clock: Clock) -> None:
    cache.store(cache.ticket(), "demo", {"html": page()})
    clock.now += 299
    assert cache.lookup("demo", "html") is not None
    clock.now += 2
    assert cache.lookup("demo", "html") is None


def test_a_page_fresh_for_less_than_max_age_expires_sooner(cache: PageCache, clock: Clock) -> None:
    cache.store(cache.ticket(), "soon", {"html": RenderedPage(b"x", "text/html", 0, fresh_for=30)})
    cache.store(cache.ticket(), "long", {"html": RenderedPage(b"x", "text/html", 0, fresh_for=900)})
    clock.now += 29
    assert cache.lookup("soon", "html") is not None
    clock.now += 2
    assert cache.lookup("soon", "html") is None
    # Never longer than the cache's own limit.
    clock.now += 270
    assert cache.lookup("long", "html") is None


def kib_page(serial: int = 0) -> RenderedPage:
    return page(serial, body=b"x" * (1024 - PAGE_OVERHEAD))


def test_the_least_recently_used_projects_go_first_past_the_byte_bound(clock: Clock) -> None:
    cache = PageCache(max_bytes=2048, clock=clock)
    cache.store(cache.ticket(), "a", {"html": kib_page()})
    cache.store(cache.ticket(), "b", {"html": kib_page()})
    cache.lookup("a", "html")
    cache.store(cache.ticket(), "c", {"html": kib_page()})
    assert cache.lookup("b", "html") is None
    assert cache.lookup("a", "html") is not None
    assert cache.lookup("c", "html") is not None
    assert cache.stats().bytes == 2048
    assert cache.stats().entries == 2


def test_the_bound_counts_bytes_not_projects(clock: Clock) -> None:
    cache = PageCache(max_bytes=10_000, clock=clock)
    cache.store(cache.ticket(), "big", {"html": page(body=b"x" * 9000)})
    cache.store(cache.ticket(), "small", {"html": page()})
    # Two pages, but together past the bound: the older, big one goes.
    assert cache.lookup("big", "html") is None
    assert cache.lookup("small", "html") is not None
    assert cache.stats().bytes <= 10_000


def test_a_page_larger_than_the_bound_is_never_kept(clock: Clock) -> None:
    cache = PageCache(max_bytes=1000, clock=clock)
    cache.store(cache.ticket(), "small", {"html": page()})
    cache.store(cache.ticket(), "huge", {"html": page(body=b"x" * 5000)})
    assert cache.lookup("huge", "html") is None
    assert cache.lookup("small", "html") is not None


def test_the_byte_count_follows_replacements_expiry_and_invalidation(
    cache: PageCache, clock: Clock
) -> None:
    cache.store(cache.ticket(), "demo", {"html": page(body=b"12345")})
    cache.store(cache.ticket(), "demo", {"html": page(body=b"1234567890")})
    cache.store(cache.ticket(), "other", {"html": page(), "json": page(body=b"{}")})
    assert cache.stats().bytes == 10 + 4 + 2 + 3 * PAGE_OVERHEAD
    assert cache.stats().entries == 3
    cache.invalidate(["demo"])
    assert cache.stats().bytes == 4 + 2 + 2 * PAGE_OVERHEAD
    clock.now += 301
    assert cache.lookup("other", "html") is None
    assert cache.stats().entries == 1
    cache.clear()
    assert (cache.stats().bytes, cache.stats().entries) == (0, 0)


def test_hits_and_misses_are_counted(cache: PageCache) -> None:
    cache.store(cache.ticket(), "demo", {"html": page()})
    cache.lookup("demo", "html")
    cache.lookup("demo", "json")
    cache.lookup("other", "html", count_miss=False)  # the fast path's look, then the handler's
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.max_bytes) == (1, 1, cache.max_bytes)


def test_refresh_reads_the_journal_at_most_once_per_interval(
    cache: PageCache, clock: Clock, db: Session, make: Factory
) -> None:
    package = make.package("journaled")
    cache.refresh(db)  # the first look only learns where the journal stands
    cache.store(cache.ticket(), "journaled", {"html": page(package.last_serial)})
    assert not cache.check_due()

    # Another worker (no commit hook here) records a change.
    journal.record(db, package, journal.Action.NEW_RELEASE, version="2.0")
    cache.refresh(db)
    assert cache.lookup("journaled", "html") is not None  # not due yet: still served

    clock.now += 1.0
    assert cache.check_due()
    cache.refresh(db)
    assert cache.lookup("journaled", "html") is None


def test_refresh_keeps_pages_rendered_after_the_change(
    cache: PageCache, clock: Clock, db: Session, make: Factory
) -> None:
    package = make.package("journaled")
    cache.refresh(db)
    serial = journal.record(db, package, journal.Action.NEW_RELEASE, version="2.0")
    cache.store(cache.ticket(), "journaled", {"html": page(serial)})
    listed(cache, db)
    make.package("journaled-two", versions=())  # no journal entry: only a re-read shows it

    clock.now += 1.0
    cache.refresh(db)

    assert cache.lookup("journaled", "html") is not None
    assert "journaled-two" not in listed(cache, db)


def test_refresh_drops_the_part_of_the_list_a_change_falls_in(
    cache: PageCache, clock: Clock, db: Session, make: Factory
) -> None:
    cache.refresh(db)
    listed(cache, db)
    package = make.package("late-comer", versions=())
    journal.record(db, package, journal.Action.CREATE)
    assert "late-comer" not in listed(cache, db)

    clock.now += 1.0
    cache.refresh(db)
    assert "late-comer" in listed(cache, db)


def test_refresh_catches_an_entry_that_commits_out_of_serial_order(
    cache: PageCache, clock: Clock, db: Session, make: Factory
) -> None:
    slow = make.package("slow")
    fast = make.package("fast")
    base = journal.record(db, fast, journal.Action.CREATE)
    cache.refresh(db)
    cache.store(cache.ticket(), "slow", {"html": page(slow.last_serial)})
    # On PostgreSQL a transaction holding serial base+1 may commit after base+2 was seen.
    db.add(JournalEntry(id=base + 2, package_id="fast", action=journal.Action.ADD_FILE))
    db.flush()
    clock.now += 1.0
    cache.refresh(db)
    assert cache.lookup("slow", "html") is not None

    db.add(JournalEntry(id=base + 1, package_id="slow", action=journal.Action.ADD_FILE))
    db.flush()
    clock.now += 1.0
    cache.refresh(db)

    assert cache.lookup("slow", "html") is None


def test_watch_drops_pages_when_a_journal_entry_commits(
    cache: PageCache, sessions: sessionmaker[Session], db: Session, make: Factory
) -> None:
    package = make.package("watched")
    db.commit()
    cache.watch(sessions)
    cache.watch(sessions)  # watching twice changes nothing
    cache.store(cache.ticket(), "watched", {"html": page()})
    cache.store(cache.ticket(), "bystander", {"html": page()})

    package.summary = "no journal entry, no invalidation"
    db.commit()
    assert cache.lookup("watched", "html") is not None

    journal.record(db, package, journal.Action.NEW_RELEASE, version="2.0")
    assert cache.lookup("watched", "html") is not None  # flushed, not yet committed
    db.commit()

    assert cache.lookup("watched", "html") is None
    assert cache.lookup("bystander", "html") is not None
    assert db.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 1


def test_a_commit_in_one_worker_reaches_the_others_at_once(
    clock: Clock, sessions: sessionmaker[Session], db: Session, make: Factory, tmp_path: Path
) -> None:
    """Two caches stand for two workers of one server: they share only the signal file."""
    committing = PageCache(signal=ChangeSignal(tmp_path / "changed"), clock=clock)
    other = PageCache(signal=ChangeSignal(tmp_path / "changed"), clock=clock)
    package = make.package("signalled")
    db.commit()
    committing.watch(sessions)
    for cache in (committing, other):
        cache.refresh(db)
        cache.store(cache.ticket(), "signalled", {"html": page(package.last_serial)})
        assert not cache.check_due()

    journal.record(db, package, journal.Action.NEW_RELEASE, version="2.0")
    db.commit()

    assert committing.lookup("signalled", "html") is None  # its own commit: dropped at once
    assert not committing.check_due()  # and it does not wake itself up again
    assert other.check_due()  # no time has passed, but the signal says look now
    other.refresh(db)
    assert other.lookup("signalled", "html") is None
    assert not other.check_due()


def test_an_unwritable_signal_falls_back_to_the_interval(clock: Clock, tmp_path: Path) -> None:
    signal = ChangeSignal(tmp_path / "missing-dir" / "changed")
    signal.raise_()  # cannot be written: no error, the periodic check remains
    assert not signal.raised()


def test_the_first_worker_to_read_a_remote_change_tells_the_others(
    clock: Clock, db: Session, make: Factory, tmp_path: Path
) -> None:
    first = PageCache(signal=ChangeSignal(tmp_path / "changed"), clock=clock)
    second = PageCache(signal=ChangeSignal(tmp_path / "changed"), clock=clock)
    package = make.package("remote")
    for cache in (first, second):
        cache.refresh(db)
        cache.store(cache.ticket(), "remote", {"html": page(package.last_serial)})
        clock.now += 0.5  # the second looks half an interval after the first

    # Another machine records a change; no commit hook here knows of it.
    journal.record(db, package, journal.Action.NEW_RELEASE, version="2.0")
    assert first.check_due()
    assert not second.check_due()
    first.refresh(db)
    assert first.lookup("remote", "html") is None
    assert second.check_due()  # told at once, half an interval early
    second.refresh(db)
    assert second.lookup("remote", "html") is None
    # Reading the same change again raises nothing: no worker is woken for nothing.
    watcher = ChangeSignal(tmp_path / "changed")
    clock.now += 1.0
    first.refresh(db)
    assert not watcher.raised()


def test_a_private_page_is_stored_only_under_a_private_variant(cache: PageCache) -> None:
    secret = RenderedPage(b"secret", "text/html", 0, private=True)
    # Under the variant the fast path asks for: refused, whoever tries.
    cache.store(cache.ticket(), "hidden", {"text/html": secret})
    assert cache.lookup("hidden", "text/html") is None
    cache.store(cache.ticket(), "hidden", {private_variant("text/html"): page()})
    assert cache.lookup("hidden", private_variant("text/html")) is None
    cache.store(cache.ticket(), "hidden", {private_variant("text/html"): secret})
    assert cache.lookup("hidden", private_variant("text/html")) == secret
    assert cache.lookup("hidden", "text/html") is None
    cache.invalidate(["hidden"])
    assert cache.lookup("hidden", private_variant("text/html")) is None


def test_cached_answers_wait_only_for_changes_made_on_this_server(
    clock: Clock, db: Session, make: Factory, tmp_path: Path
) -> None:
    signal_path = tmp_path / "changed"
    cache = PageCache(signal=ChangeSignal(signal_path), clock=clock)
    assert cache.must_read_journal_first()  # nothing read yet
    cache.refresh(db)
    assert not cache.must_read_journal_first()
    clock.now += 5.0  # the periodic check is long due: answers still go out
    assert cache.check_due()
    assert not cache.must_read_journal_first()
    ChangeSignal(signal_path).raise_()  # another worker here committed a change
    assert cache.must_read_journal_first()
    assert cache.must_read_journal_first()  # until the journal is read
    cache.refresh(db)
    assert not cache.must_read_journal_first()


def test_one_caller_at_a_time_runs_the_periodic_check(
    cache: PageCache, clock: Clock, db: Session
) -> None:
    cache.refresh(db)
    assert not cache.claim_poll()  # not due
    clock.now += 1.0
    assert cache.claim_poll()
    assert not cache.claim_poll()  # claimed: the others answer from the cache
    cache.refresh(db)  # the claimer's request reads the journal
    assert not cache.claim_poll()  # done, and not due again for an interval
    clock.now += 1.0
    assert cache.claim_poll()
    clock.now += 2.0  # a claim whose request never read the journal is taken to have failed
    assert cache.claim_poll()
