from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.audit import audit_actions
from tests.helpers.factories import Factory
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.journal import JournalEntry
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services.audit import Origin
from wheelyard.services.projects import admin

ORIGIN = Origin("127.0.0.1", "tests")


def journal_actions(db: Session) -> list[tuple[str, str | None, str | None]]:
    query = sa.select(JournalEntry).order_by(JournalEntry.id)
    return [(e.action, e.version, e.filename) for e in db.scalars(query)]


def test_yank_and_unyank_with_journal_and_audit(db: Session, package: Package, owner: User) -> None:
    serial_before = package.last_serial
    admin.yank(db, package, "1.0", "  broken wheel  ", actor=owner, origin=ORIGIN)
    release = admin.release_of(package, "1.0")
    assert release.yanked and release.yanked_reason == "broken wheel"
    assert package.last_serial > serial_before
    admin.unyank(db, package, "1.0", actor=owner, origin=ORIGIN)
    assert not release.yanked and release.yanked_reason is None
    assert journal_actions(db) == [("yank release", "1.0", None), ("unyank release", "1.0", None)]
    assert audit_actions(db) == ["yank", "unyank"]


def test_yank_refuses_what_makes_no_sense(db: Session, package: Package, owner: User) -> None:
    with pytest.raises(admin.ProjectAdminError, match="no such release"):
        admin.yank(db, package, "9.9", "", actor=owner, origin=ORIGIN)
    with pytest.raises(admin.ProjectAdminError, match="longer than"):
        admin.yank(db, package, "1.0", "x" * 1001, actor=owner, origin=ORIGIN)
    with pytest.raises(admin.ProjectAdminError, match="not yanked"):
        admin.unyank(db, package, "1.0", actor=owner, origin=ORIGIN)
    admin.yank(db, package, "1.0", "", actor=owner, origin=ORIGIN)
    with pytest.raises(admin.ProjectAdminError, match="already yanked"):
        admin.yank(db, package, "1.0", "", actor=owner, origin=ORIGIN)
    assert journal_actions(db) == [("yank release", "1.0", None)]


def test_remove_file_keeps_its_name_registered(db: Session, package: Package, owner: User) -> None:
    release = admin.release_of(package, "1.0")
    release_file = release.files[0]
    release_file.storage_path = "ab/cd/blob/" + release_file.filename
    db.add(FileRegistry(filename=release_file.filename))
    db.flush()
    paths = admin.remove_file(db, package, release_file.filename, actor=owner, origin=ORIGIN)
    assert paths == [release_file.storage_path]
    assert (
        db.scalar(sa.select(ReleaseFile).where(ReleaseFile.filename == "demo-1.0-py3-none-any.whl"))
        is None
    )
    assert db.scalar(sa.select(FileRegistry.filename)) == "demo-1.0-py3-none-any.whl"
    assert journal_actions(db) == [("remove file", "1.0", "demo-1.0-py3-none-any.whl")]
    assert audit_actions(db) == ["remove file"]
    with pytest.raises(admin.ProjectAdminError, match="no such file"):
        admin.remove_file(db, package, release_file.filename, actor=owner, origin=ORIGIN)


def test_remove_release_removes_its_files(db: Session, package: Package, owner: User) -> None:
    release_id = admin.release_of(package, "2.0").id
    admin.remove_release(db, package, "2.0", actor=owner, origin=ORIGIN)
    db.expire_all()
    assert db.get(Release, release_id) is None
    assert db.scalar(sa.select(sa.func.count()).where(ReleaseFile.release_id == release_id)) == 0
    assert [r.version for r in db.get_one(Package, "demo").releases] == ["1.0"]
    assert journal_actions(db) == [("remove release", "2.0", None)]
    assert audit_actions(db) == ["remove release"]


def test_file_of_another_project_is_not_found(
    db: Session, make: Factory, package: Package, owner: User
) -> None:
    make.package("other", owner=owner)
    with pytest.raises(admin.ProjectAdminError, match="no such file"):
        admin.remove_file(db, package, "other-1.0-py3-none-any.whl", actor=owner, origin=ORIGIN)


def test_remove_file_takes_its_size_off_the_release(
    db: Session, make: Factory, package: Package, owner: User
) -> None:
    release = admin.release_of(package, "1.0")
    sdist = make.file(release, packagetype="sdist")
    release.size = sum(f.size for f in release.files)
    db.flush()
    wheel_size = release.size - sdist.size
    admin.remove_file(db, package, sdist.filename, actor=owner, origin=ORIGIN)
    assert release.size == wheel_size
    assert [f.filename for f in release.files] == ["demo-1.0-py3-none-any.whl"]


def test_a_file_whose_digest_names_no_blob_is_still_removed(
    db: Session, package: Package, owner: User
) -> None:
    release_file = admin.release_of(package, "1.0").files[0]
    release_file.metadata_sha256 = "0" * 64
    release_file.blake2_256_digest = "not-hex"
    db.flush()
    paths = admin.remove_file(db, package, release_file.filename, actor=owner, origin=ORIGIN)
    assert paths == []


def test_removing_files_never_registered_retires_their_names(
    db: Session, make: Factory, package: Package, owner: User
) -> None:
    # Imported files may never have been registered; deleting them must not free the name.
    release = admin.release_of(package, "2.0")
    make.file(release, packagetype="sdist")
    db.flush()
    admin.remove_file(db, package, "demo-1.0-py3-none-any.whl", actor=owner, origin=ORIGIN)
    admin.remove_release(db, package, "2.0", actor=owner, origin=ORIGIN)
    db.flush()
    assert sorted(db.scalars(sa.select(FileRegistry.filename))) == [
        "demo-1.0-py3-none-any.whl",
        "demo-2.0-py3-none-any.whl",
        "demo-2.0.tar.gz",
    ]
