from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pypi_simple import IndexPage
from sqlalchemy.orm import Session

from tests.helpers.clock import Clock
from tests.helpers.factories import Factory
from wheelyard.data.package import Package
from wheelyard.services import journal
from wheelyard.services.index import project_list
from wheelyard.services.index.project_list import ListingPage, ProjectListing, Row

HTML = "text/html"
JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def listing(clock: Clock) -> ProjectListing:
    return ProjectListing(chunk_size=2, max_age=300.0, clock=clock)


def body(page: ListingPage, as_json: bool) -> bytes:
    return b"".join(page.parts(as_json))


def names(page: ListingPage) -> list[str]:
    return [project["name"] for project in json.loads(body(page, True))["projects"]]


def html_names(page: ListingPage) -> list[str]:
    return IndexPage.from_html(body(page, False).decode()).projects


def rename(db: Session, package_id: str, name: str) -> None:
    """A change no journal entry tells of: only a re-read of its chunk shows it."""
    db.execute(sa.update(Package).where(Package.id == package_id).values(name=name))


@pytest.fixture
def five(db: Session, make: Factory) -> list[str]:
    for name in ("Echo", "alpha", "Delta", "charlie", "bravo"):
        make.package(name, versions=())
    return ["alpha", "bravo", "charlie", "Delta", "Echo"]


def test_the_page_lists_every_project_in_id_order(
    listing: ProjectListing, db: Session, make: Factory, five: list[str]
) -> None:
    package = make.package("Zeta_Project", versions=())
    serial = journal.record(db, package, journal.Action.CREATE)

    page = listing.page(db)

    assert names(page) == [*five, "Zeta_Project"]
    assert html_names(page) == [*five, "Zeta_Project"]
    assert '<a href="zeta-project/">Zeta_Project</a>' in body(page, False).decode()
    document = json.loads(body(page, True))
    assert document["meta"] == {"api-version": "1.4", "_last-serial": serial}
    assert document["projects"][-1] == {"name": "Zeta_Project", "_last-serial": serial}
    assert page.serial == serial
    assert len(page.chunks) == 3


def test_an_empty_index_is_a_valid_page(listing: ProjectListing, db: Session) -> None:
    if db.scalar(sa.select(sa.func.count()).select_from(Package)):
        pytest.skip("the shared test database already has projects")
    page = listing.page(db)
    assert json.loads(body(page, True))["projects"] == []
    assert html_names(page) == []


def test_a_dropped_project_rereads_only_its_chunk(
    listing: ProjectListing, db: Session, make: Factory, five: list[str]
) -> None:
    listing.page(db)
    rename(db, "alpha", "ALPHA")  # chunk 1 (alpha, bravo)
    rename(db, "echo", "ECHO")  # chunk 3 (echo)
    make.package("bravo-two", versions=())  # falls in chunk 1

    assert names(listing.page(db)) == five  # nothing dropped: every chunk from memory

    listing.drop(["bravo-two"])
    assert names(listing.page(db)) == ["ALPHA", "bravo", "bravo-two", "charlie", "Delta", "Echo"]


def test_drop_older_than_keeps_chunks_rendered_after_the_change(
    listing: ProjectListing, db: Session, make: Factory, five: list[str]
) -> None:
    package = db.get(Package, "alpha")
    assert package is not None
    serial = journal.record(db, package, journal.Action.NEW_RELEASE, version="1.0")
    db.flush()
    listing.page(db)
    rename(db, "bravo", "BRAVO")

    listing.drop_older_than({"alpha": serial})  # the chunk already shows that serial
    assert "BRAVO" not in names(listing.page(db))
    listing.drop_older_than({"alpha": serial + 1})
    assert "BRAVO" in names(listing.page(db))


def test_a_chunk_grown_past_twice_its_size_is_cut(
    listing: ProjectListing, db: Session, make: Factory, five: list[str]
) -> None:
    assert len(listing.page(db).chunks) == 3
    for number in range(6):
        make.package(f"bravo-{number}", versions=())
    listing.drop(["bravo-0"])
    page = listing.page(db)
    assert names(page) == sorted([*five, *(f"bravo-{n}" for n in range(6))], key=str.lower)
    assert len(page.chunks) == 3  # read as one range, then cut for next time
    assert len(listing.page(db).chunks) == 6  # its 8 projects now in 4 chunks

    rename(db, "bravo-5", "Bravo-5")
    listing.drop(["bravo-5"])
    assert "Bravo-5" in names(listing.page(db))


def test_chunks_expire_after_max_age(
    listing: ProjectListing, db: Session, clock: Clock, five: list[str]
) -> None:
    listing.page(db)
    rename(db, "echo", "ECHO")
    clock.now += 100
    assert "ECHO" not in names(listing.page(db))
    clock.now += 201
    assert "ECHO" in names(listing.page(db))


def test_changes_during_the_first_read_are_not_lost(
    listing: ProjectListing,
    db: Session,
    five: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_range = project_list.read_range

    def read_with_a_change_landing(session: Session, low: str, high: str | None) -> Iterator[Row]:
        rows = read_range(session, low, high)
        yield next(rows)
        listing.drop(["echo"])  # committed elsewhere, after this read's snapshot began
        yield from rows

    monkeypatch.setattr(project_list, "read_range", read_with_a_change_landing)
    listing.page(db)
    monkeypatch.setattr(project_list, "read_range", read_range)
    rename(db, "echo", "ECHO")
    rename(db, "alpha", "ALPHA")
    assert names(listing.page(db)) == ["alpha", "bravo", "charlie", "Delta", "ECHO"]


def test_etags_follow_the_content_and_the_type(
    listing: ProjectListing, db: Session, make: Factory, five: list[str]
) -> None:
    first = listing.page(db)
    again = listing.page(db)
    assert first.etag(HTML, False) == again.etag(HTML, False)
    assert first.etag(HTML, False) != first.etag(JSON, True)
    assert first.etag(HTML, False) != first.etag("application/vnd.pypi.simple.v1+html", False)
    make.package("delta-two", versions=())
    listing.drop(["delta-two"])
    changed = listing.page(db)
    assert changed.etag(HTML, False) != first.etag(HTML, False)
    assert changed.etag(JSON, True) != first.etag(JSON, True)


def test_names_outside_the_plain_alphabet_are_escaped(
    listing: ProjectListing, db: Session, make: Factory
) -> None:
    make.package('odd"<&>name', versions=())
    page = listing.page(db)
    text = body(page, False).decode()
    assert "odd&quot;&lt;&amp;&gt;name</a>" in text
    assert 'odd"<&>name' in names(page)
