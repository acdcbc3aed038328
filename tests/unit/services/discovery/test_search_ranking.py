"""services.discovery.search: what a match is worth (name, then summary and keywords, then the
README without its links) and the orders PyPI offers (relevance, newest, downloads).

On SQLite and, with WHEELYARD_TEST_POSTGRES_URL set, on PostgreSQL; the course's dataset
(PyPI's documents of 96 popular projects) is imported for the last tests, which skip without it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.download_count import DownloadCount
from wheelyard.data.package import Package, search_text_of
from wheelyard.services.discovery import search
from wheelyard.services.ops.importers import pypi_documents, pypi_json
from wheelyard.services.projects import classifiers

TODAY = dt.date(2026, 12, 4)


def names(
    db: Session,
    text: str,
    order: search.Order = search.Order.RELEVANCE,
    filters: search.Filters | None = None,
) -> list[str]:
    results = search.search(db, text, 1, 50, filters, order=order, today=TODAY)
    return [package.name for package in results.page.items]


def test_readme_links_are_not_words(db: Session, make: Factory) -> None:
    make.package(
        "badges",
        summary="Something else",
        description="[![ci](https://github.com/o/badges/actions)](http://pypi.org/project/x)\n"
        "Mail <mailto:someone@example.org> or see www.example.org/docs.",
    )
    make.package("speaks", summary="Something else", description="Speaks HTTP to GitHub.")
    db.flush()

    assert names(db, "http") == ["speaks"]
    assert names(db, "github") == ["speaks"]
    # ("https" is stemmed to "http" on both databases.)
    for word in ("pypi", "mailto", "www", "docs", "actions"):
        assert names(db, word) == [], word
    # The README itself is kept as written.
    badges = db.get(Package, "badges")
    assert badges is not None and badges.description is not None
    assert "https://github.com" in badges.description


def test_search_text_follows_the_description() -> None:
    assert search_text_of(None) is None
    assert search_text_of("see <https://x.org/a> now") == "see < > now"
    assert len(search_text_of("word " * 100_000) or "") == 100_000


def test_summary_and_keywords_rank_above_any_readme(db: Session, make: Factory) -> None:
    make.package(
        "imaging",
        summary="Pictures",
        description="HTTP " * 200 + "An imaging library that talks about http a lot.",
    )
    make.package("humans", summary="Python HTTP for Humans.")
    tagged = make.package("tagged", summary="Pooling")
    tagged.keywords = "http pooling"
    make.package("httpish", summary="Nothing")
    db.flush()

    # The name first, then the summary and keywords, the README last however often it says it.
    found = names(db, "http")
    assert found[0] == "httpish"
    assert set(found[1:3]) == {"humans", "tagged"}
    assert found[3:] == ["imaging"]


def test_a_word_of_the_summary_outranks_the_readme_past_the_window(
    db: Session, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README lookup stops at the window; the summary match is looked up on its own.
    monkeypatch.setattr(search, "RESULT_WINDOW", 3)
    for number in range(6):
        make.package(f"aaa-{number}", summary="Other", description="talks about sockets")
    make.package("zzz", summary="Sockets for everyone")
    db.flush()

    assert names(db, "sockets")[0] == "zzz"


@pytest.fixture
def dated(db: Session, make: Factory) -> None:
    for name, updated, downloads in [
        ("old-web", dt.datetime(2020, 1, 1), 500),
        ("new-web", dt.datetime(2026, 11, 1), 5),
        ("web", dt.datetime(2023, 1, 1), 50),
    ]:
        package = make.package(name, summary="web tools")
        package.last_updated = updated
        db.add(
            DownloadCount(package_id=package.id, day=TODAY, is_mirror=False, downloads=downloads)
        )
        # Older than the 30 days counted, and mirrors: neither counts.
        db.add(
            DownloadCount(
                package_id=package.id,
                day=TODAY - dt.timedelta(days=30),
                is_mirror=False,
                downloads=10_000 - downloads,
            )
        )
        db.add(DownloadCount(package_id=package.id, day=TODAY, is_mirror=True, downloads=9_999))
    make.package("never-downloaded", summary="web tools").last_updated = dt.datetime(2019, 1, 1)
    db.flush()


def test_orders(db: Session, dated: None) -> None:
    assert names(db, "web") == ["web", "new-web", "old-web", "never-downloaded"]
    assert names(db, "web", search.Order.NEWEST) == [
        "new-web",
        "web",
        "old-web",
        "never-downloaded",
    ]
    assert names(db, "web", search.Order.DOWNLOADS) == [
        "old-web",
        "web",
        "new-web",
        "never-downloaded",
    ]


def test_orders_keep_the_classifier_filter(db: Session, dated: None) -> None:
    for name in ("old-web", "new-web"):
        package = db.get(Package, name)
        assert package is not None
        classifiers.set_classifiers(db, package, ["Framework :: Django :: 5.0"])
    db.flush()
    django = search.Filters(classifiers=("Framework :: Django",))

    assert names(db, "web", filters=django) == ["new-web", "old-web"]
    assert names(db, "web", search.Order.DOWNLOADS, django) == ["old-web", "new-web"]
    assert names(db, "", search.Order.NEWEST, django) == ["new-web", "old-web"]


# --- the course's dataset --------------------------------------------------------------------


@pytest.fixture
def top100(db: Session, top100_dir: Path) -> int:
    paths = sorted(top100_dir.glob("*.json"))
    for path in paths:
        pypi_json.import_document(db, pypi_documents.parse_document(path.read_bytes()))
    db.flush()
    return len(paths)


def test_the_course_dataset_ranks_as_people_expect(db: Session, top100: int) -> None:
    """One test for the dataset, which takes minutes to import on PostgreSQL."""
    readmes_with_http = sum(
        1
        for (description,) in db.query(Package.description)
        if description and "http" in description.lower()
    )
    results = search.search(db, "http", 1, 100, facets=False)
    found = [package.id for package in results.page.items]

    # Nearly every README links somewhere; far fewer projects are about HTTP.
    assert readmes_with_http > top100 * 3 // 4
    assert results.page.total < readmes_with_http // 4
    for library in ("requests", "urllib3", "httplib2"):
        assert library in found[:8], (library, found)
    assert "pillow" not in found[:8]
    assert found.index("requests") < found.index("pillow") if "pillow" in found else True

    # And a project is first for its own name.
    for name in ("requests", "flask", "pillow", "six"):
        first = search.search(db, name, 1, 5).page.items[0]
        assert first.id == name
