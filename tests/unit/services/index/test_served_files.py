from __future__ import annotations

from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.package import Visibility
from wheelyard.services.index import served_files
from wheelyard.services.index.served_files import ServedFile, ServedFiles


def served(filename: str, package_id: str = "demo") -> ServedFile:
    return ServedFile(1, 1, package_id, "1.0", filename, "sdist", 10, "0" * 64, "ab/cd/x")


def test_find_served_reads_what_a_download_needs(db: Session, make: Factory) -> None:
    package = make.package("findable", versions=("2.0",))
    release_file = package.releases[0].files[0]
    found = served_files.find_served(db, release_file.filename)
    assert found == ServedFile.of(release_file)
    assert found is not None
    assert (found.package_id, found.version) == ("findable", "2.0")
    assert served_files.find_served(db, "nothing-1.0.tar.gz") is None


def test_find_release_file_loads_the_release(db: Session, make: Factory) -> None:
    release_file = make.package("counted").releases[0].files[0]
    db.commit()
    db.expunge_all()
    found = served_files.find_release_file(db, release_file.filename)
    assert found is not None
    assert found.id == release_file.id
    assert found.release.package_id == "counted"
    assert served_files.find_release_file(db, "nothing-1.0.tar.gz") is None


def test_files_are_dropped_with_their_package() -> None:
    cache = ServedFiles()
    for name, package in (("a.tar.gz", "demo"), ("b.tar.gz", "demo"), ("c.tar.gz", "other")):
        cache.store(cache.ticket(), served(name, package))
    cache.drop(["demo"])
    assert cache.lookup("a.tar.gz") is None
    assert cache.lookup("b.tar.gz") is None
    assert cache.lookup("c.tar.gz") == served("c.tar.gz", "other")


def test_a_lookup_begun_before_a_drop_is_not_stored() -> None:
    cache = ServedFiles()
    ticket = cache.ticket()
    cache.drop(["demo"])  # the file is removed while its row is being read
    cache.store(ticket, served("a.tar.gz"))
    assert cache.lookup("a.tar.gz") is None


def test_the_least_recently_used_files_go_first() -> None:
    cache = ServedFiles(max_files=2)
    cache.store(cache.ticket(), served("a.tar.gz"))
    cache.store(cache.ticket(), served("b.tar.gz"))
    cache.lookup("a.tar.gz")
    cache.store(cache.ticket(), served("c.tar.gz"))
    assert cache.lookup("b.tar.gz") is None
    assert cache.lookup("a.tar.gz") is not None
    assert cache.lookup("c.tar.gz") is not None
    cache.drop(["demo"])
    assert cache.lookup("a.tar.gz") is None


def test_a_private_projects_files_are_never_kept(db: Session, make: Factory) -> None:
    package = make.package("kept-private")
    package.visibility = Visibility.PRIVATE
    db.flush()
    found = served_files.find_served(db, package.releases[0].files[0].filename)
    assert found is not None and not found.public
    files = ServedFiles()
    files.store(files.ticket(), found)
    assert files.lookup(found.filename) is None
    files.store(files.ticket(), served("public-1.0.tar.gz"))
    assert files.lookup("public-1.0.tar.gz") is not None
