"""services.discovery.browse: licenses and languages with counts, and their packages."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.services.discovery import browse
from wheelyard.services.discovery.pagination import PageOutOfRange


@pytest.fixture
def catalogue(make: Factory) -> None:
    mit, apache = make.license("MIT"), make.license("Apache-2.0")
    make.license("Zero-Users")
    python, rust = make.language("Python 3"), make.language("Rust")
    make.package("a", license=mit, languages=(python,))
    make.package("b", license=mit, languages=(python, rust))
    make.package("c", license=apache, languages=(python,))
    make.package("d", license=None)


def test_license_counts_most_used_first_then_by_name(db: Session, catalogue: None) -> None:
    counts = [(facet.id, facet.package_count) for facet in browse.license_counts(db)]
    assert counts == [("MIT", 2), ("Apache-2.0", 1), ("Zero-Users", 0)]


def test_language_counts(db: Session, catalogue: None) -> None:
    counts = [(facet.id, facet.package_count) for facet in browse.language_counts(db)]
    assert counts == [("Python 3", 3), ("Rust", 1)]


def test_packages_of_a_license_and_of_a_language(db: Session, catalogue: None) -> None:
    assert [p.id for p in browse.packages_with_license(db, "MIT", 1, 10).items] == ["a", "b"]
    assert [p.id for p in browse.packages_in_language(db, "Rust", 1, 10).items] == ["b"]
    in_python = browse.packages_in_language(db, "Python 3", 2, 2)
    assert [p.id for p in in_python.items] == ["c"]
    assert in_python.total == 3


def test_a_page_past_the_end(db: Session, catalogue: None) -> None:
    with pytest.raises(PageOutOfRange):
        browse.packages_with_license(db, "MIT", 2, 10)


@pytest.mark.parametrize("name", ["", "\x00", "MIT\x00", "x" * 201, "mit", "No-Such"])
def test_find_unknown_and_impossible_ids(db: Session, catalogue: None, name: str) -> None:
    assert browse.find_license(db, name) is None
    assert browse.find_language(db, name) is None


def test_find_existing(db: Session, catalogue: None) -> None:
    license = browse.find_license(db, "MIT")
    language = browse.find_language(db, "Python 3")
    assert license is not None
    assert license.id == "MIT"
    assert language is not None
    assert language.id == "Python 3"


def test_counts_sorted_by_name_instead(db: Session, catalogue: None) -> None:
    assert [facet.id for facet in browse.license_counts(db, "name")] == [
        "Apache-2.0",
        "MIT",
        "Zero-Users",
    ]
    assert [facet.id for facet in browse.language_counts(db, "name")] == ["Python 3", "Rust"]
    assert [facet.package_count for facet in browse.license_counts(db, "name")] == [1, 2, 0]


def test_ties_and_names_ignore_case(db: Session, make: Factory) -> None:
    # Byte order would put every capitalised name before "cython" and "zlib".
    for n, name in enumerate(("zlib", "Boost", "apache", "MIT")):
        make.package(f"licensed-{n}", license=make.license(name))
    for n, name in enumerate(("cython", "C++", "Rust", "Python 3")):
        make.package(f"written-{n}", languages=(make.language(name),))
    make.package("also-in-rust", languages=(make.language("Rust"),))

    licenses = [facet.id for facet in browse.license_counts(db)]
    languages = [facet.id for facet in browse.language_counts(db)]

    assert licenses == ["apache", "Boost", "MIT", "zlib"]
    assert licenses == [facet.id for facet in browse.license_counts(db, "name")]
    assert languages == ["Rust", "C++", "cython", "Python 3"]
    assert [facet.id for facet in browse.language_counts(db, "name")] == [
        "C++",
        "cython",
        "Python 3",
        "Rust",
    ]
