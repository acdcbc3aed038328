from __future__ import annotations

from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.services import journal


def test_record_sets_the_package_serial(db: Session, make: Factory) -> None:
    package = make.package("journaled")
    first = journal.record(db, package, journal.Action.NEW_RELEASE, version="1.0")
    second = journal.record(db, package, journal.Action.ADD_FILE, filename="journaled-1.0.tar.gz")
    assert second > first
    assert package.last_serial == second
    assert journal.last_serial(db) == second


def test_changed_since_names_only_newer_packages(db: Session, make: Factory) -> None:
    old = make.package("old-news")
    new = make.package("new-news")
    before = journal.record(db, old, journal.Action.CREATE)
    journal.record(db, new, journal.Action.CREATE)
    assert journal.changed_since(db, before) == {"new-news"}
