"""The running totals (migration 0005) against a real count after every kind of write."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from tests.helpers.index_totals import assert_totals_exact
from tests.helpers.pypi_documents import pypi_document, pypi_file
from wheelyard.data.db_session import create_engine
from wheelyard.data.package import Package
from wheelyard.services.analytics import project_sizes
from wheelyard.services.analytics.project_sizes import ProjectSize
from wheelyard.services.audit import Origin
from wheelyard.services.ops import schema
from wheelyard.services.ops.importers.pypi_json import import_document
from wheelyard.services.projects import admin, packages


def assert_exact(db: Session) -> None:
    """The totals agree with a count of what the session wrote, none of it read from cache."""
    db.flush()
    db.expire_all()
    assert_totals_exact(db)


ORIGIN = Origin(ip_address="127.0.0.1", user_agent="tests")


def test_totals_follow_new_projects_releases_files_and_users(db: Session, make: Factory) -> None:
    before = packages.index_counts(db)
    make.user()
    small = make.package("small", versions=("1.0",))
    big = make.package("big", versions=("1.0", "2.0"))
    make.file(big.releases[0], packagetype="sdist")
    make.package("empty", versions=())
    assert_exact(db)
    after = packages.index_counts(db)
    assert after.projects - before.projects == 3
    assert after.releases - before.releases == 3
    assert after.files - before.files == 4
    assert after.users - before.users == 1
    top = project_sizes.top_by_size(db)
    assert [row.package_id for row in top][:2] == ["big", "small"]
    assert small.id not in {row.package_id for row in top[:1]}


def test_totals_follow_removed_files_releases_and_projects(db: Session, make: Factory) -> None:
    owner = make.user()
    package = make.package("shrinking", versions=("1.0", "2.0", "3.0"), owner=owner)
    make.file(package.releases[0], packagetype="sdist")
    other = make.package("other", versions=("1.0",))
    assert_exact(db)

    filename = package.releases[0].files[0].filename
    admin.remove_file(db, package, filename, actor=owner, origin=ORIGIN)
    assert_exact(db)
    admin.remove_release(db, package, "2.0", actor=owner, origin=ORIGIN)
    assert_exact(db)
    # Deleting the project: releases and files go by the database's cascades.
    db.execute(sa.delete(Package).where(Package.id == other.id))
    assert_exact(db)
    db.delete(package)
    assert_exact(db)
    assert "shrinking" not in {row.package_id for row in project_sizes.top_by_size(db, limit=100)}


def test_totals_follow_a_file_moved_or_resized(db: Session, make: Factory) -> None:
    first = make.package("first", versions=("1.0",))
    second = make.package("second", versions=("1.0",))
    moved = first.releases[0].files[0]
    moved.size += 12345
    assert_exact(db)
    moved.release_id = second.releases[0].id
    assert_exact(db)


def test_totals_follow_imports(db: Session) -> None:
    files = [pypi_file("imported-1.0.tar.gz", size=700), pypi_file("imported-2.0.tar.gz", size=5)]
    import_document(db, pypi_document("imported", {"1.0": files[:1], "2.0": files[1:]}))
    assert_exact(db)
    biggest = {row.package_id: row.size for row in project_sizes.top_by_size(db, limit=100)}
    assert biggest["imported"] == 705


def test_totals_follow_deleted_users(db: Session, make: Factory) -> None:
    user = make.user()
    assert_exact(db)
    db.delete(user)
    assert_exact(db)


def test_the_migration_backfills_the_totals_from_existing_rows() -> None:
    # A separate, empty database: filled at revision 0004, then upgraded.
    scratch = create_engine("sqlite://")
    try:
        schema.upgrade(scratch, "0004")
        with scratch.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO packages (id, name) VALUES ('a', 'A'), ('b', 'B'), ('c', 'C')"
            )
            connection.exec_driver_sql(
                "INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com')"
            )
            for number, package in enumerate(["a", "a", "b"]):
                connection.exec_driver_sql(
                    "INSERT INTO releases (package_id, version, sort_key, major_ver, minor_ver,"
                    " build_ver, is_prerelease, size) VALUES (?, ?, x'00', 1, 0, 0, 0, 0)",
                    (package, f"1.{number}"),
                )
            for number, (release_id, size) in enumerate([(1, 10), (1, 20), (2, 30), (3, 5)]):
                connection.exec_driver_sql(
                    "INSERT INTO release_files (release_id, filename, packagetype, size,"
                    " sha256_digest) VALUES (?, ?, 'sdist', ?, ?)",
                    (release_id, f"f{number}.tar.gz", size, f"{number:064d}"),
                )
        schema.upgrade(scratch)
        with Session(scratch) as db:
            assert packages.index_counts(db) == packages.IndexCounts(3, 3, 4, 1)
            assert project_sizes.total_size(db) == 65
            assert project_sizes.top_by_size(db) == [
                ProjectSize("a", "A", 60),
                ProjectSize("b", "B", 5),
            ]
            # And the triggers carry on from there.
            db.execute(sa.delete(Package).where(Package.id == "a"))
            assert packages.index_counts(db) == packages.IndexCounts(2, 1, 1, 1)
            assert project_sizes.total_size(db) == 5
    finally:
        scratch.dispose()
