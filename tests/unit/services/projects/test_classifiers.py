"""Programming languages from "Programming Language ::" classifiers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.language import Language
from wheelyard.data.package import Package
from wheelyard.data.package_classifier import PackageClassifier
from wheelyard.services.projects import classifiers
from wheelyard.services.projects.classifiers import (
    ensure_languages,
    language_of,
    languages_from_classifiers,
)


@pytest.mark.parametrize(
    ("classifier", "expected"),
    [
        ("Programming Language :: Python", "Python"),
        ("Programming Language :: Python :: 3", "Python 3"),
        ("Programming Language :: Python :: 3.12", "Python 3"),
        ("Programming Language :: Python :: 3 :: Only", "Python 3"),
        ("Programming Language :: Python :: 2.7", "Python 2"),
        ("Programming Language :: Python :: Implementation :: PyPy", "PyPy"),
        ("Programming Language :: Python :: Implementation :: CPython", "CPython"),
        ("Programming Language :: Python :: Free Threading :: 3 - Stable", "Python"),
        ("Programming Language :: Cython", "Cython"),
        ("Programming Language :: C++", "C++"),
        ("Programming Language :: Unix Shell", "Unix Shell"),
        ("License :: OSI Approved :: MIT License", None),
        ("Programming Language", None),
    ],
)
def test_language_of(classifier: str, expected: str | None) -> None:
    assert language_of(classifier) == expected


def test_languages_are_distinct_and_sorted() -> None:
    classifiers = [
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: C",
        "Topic :: Utilities",
    ]
    assert languages_from_classifiers(classifiers) == ["C", "Python 3"]


def test_ensure_languages_reuses_rows(db: Session) -> None:
    first = ensure_languages(db, ["Python 3", "C"])
    again = ensure_languages(db, ["C"])
    db.flush()
    assert again[0] is first[1]
    assert db.scalar(sa.select(sa.func.count()).select_from(Language)) == 2


def stored_classifiers(db: Session, package_id: str) -> list[str]:
    return list(
        db.scalars(
            sa.select(PackageClassifier.classifier)
            .where(PackageClassifier.package_id == package_id)
            .order_by(PackageClassifier.classifier)
        )
    )


def test_set_classifiers_replaces_the_set(db: Session, make: Factory) -> None:
    package = make.package("classy")
    classifiers.set_classifiers(db, package, ["B :: x", "A :: y", " B :: x ", "", "  "])
    db.flush()
    assert stored_classifiers(db, "classy") == ["A :: y", "B :: x"]

    classifiers.set_classifiers(db, package, ["C :: z", "A :: y", "bad\x00", "x" * 300])
    db.flush()
    assert stored_classifiers(db, "classy") == ["A :: y", "C :: z"]

    classifiers.set_classifiers(db, package, [])
    db.flush()
    assert stored_classifiers(db, "classy") == []


def test_set_classifiers_on_a_new_package(db: Session) -> None:
    package = Package(id="brand-new", name="brand-new")
    db.add(package)
    classifiers.set_classifiers(db, package, ["Typing :: Typed"])
    db.flush()
    assert stored_classifiers(db, "brand-new") == ["Typing :: Typed"]


def test_classifiers_go_with_their_package(db: Session, make: Factory) -> None:
    package = make.package("doomed", versions=())
    classifiers.set_classifiers(db, package, ["Typing :: Typed"])
    db.flush()
    db.execute(sa.delete(Package).where(Package.id == "doomed"))
    assert stored_classifiers(db, "doomed") == []
