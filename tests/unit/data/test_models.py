from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.download import Download
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.user import User


def test_releases_are_newest_first_in_pep440_order(db: Session, make: Factory) -> None:
    make.package("ordering", versions=("1.9", "2.0", "1.10", "2.0rc1", "0.1"))
    db.expire_all()
    package = db.get(Package, "ordering")
    assert package is not None
    assert [r.version for r in package.releases] == ["2.0", "2.0rc1", "1.10", "1.9", "0.1"]


def test_setting_version_fills_derived_columns(db: Session, make: Factory) -> None:
    package = make.package("derived", versions=())
    release = make.release(package, "2.10.3b1")
    assert (release.major_ver, release.minor_ver, release.build_ver) == (2, 10, 3)
    assert release.is_prerelease
    assert release.version == "2.10.3b1"


def test_created_date_is_set_by_the_database(db: Session, make: Factory) -> None:
    user = make.user()
    db.expire(user)
    assert user.created_date is not None


def test_relationships_link_users_packages_licenses_languages(db: Session, make: Factory) -> None:
    owner = make.user(name="Olga Owner")
    helper = make.user(name="Hugo Helper")
    mit = make.license("MIT")
    py3 = make.language("Python 3")
    package = make.package("linked", owner=owner, license=mit, languages=(py3,))
    db.add(Maintainer(user=helper, package=package, role=Role.MAINTAINER))
    db.flush()
    db.expire_all()
    loaded = db.get(Package, "linked")
    assert loaded is not None
    assert [u.name for u in loaded.maintainers] == ["Hugo Helper", "Olga Owner"]
    assert {link.role for link in loaded.maintainer_links} == {Role.OWNER, Role.MAINTAINER}
    assert loaded.license is not None and loaded.license.id == "MIT"
    assert [language.id for language in loaded.languages] == ["Python 3"]
    assert [p.id for p in db.get_one(User, owner.id).packages] == ["linked"]
    release = loaded.releases[0]
    assert release.package is loaded
    assert [f.filename for f in release.files] == ["linked-1.0-py3-none-any.whl"]


def test_version_is_unique_per_package(db: Session, make: Factory) -> None:
    package = make.package("unique-version", versions=("1.0",))
    db.add(Release(package=package, version="1.0"))
    with pytest.raises(IntegrityError):
        db.flush()


def test_email_is_unique(db: Session, make: Factory) -> None:
    make.user(email="same@example.com")
    with pytest.raises(IntegrityError):
        make.user(email="same@example.com")


def test_maintainer_needs_a_real_user(db: Session, make: Factory) -> None:
    package = make.package("orphan")
    db.add(Maintainer(user_id=987654, package_id=package.id, role=Role.OWNER))
    with pytest.raises(IntegrityError):
        db.flush()


def test_download_rows_get_big_autoincrement_ids(db: Session, make: Factory) -> None:
    package = make.package("counted")
    release = package.releases[0]
    for _ in range(3):
        db.add(
            Download(
                package_id=package.id,
                release_id=release.id,
                file_id=release.files[0].id,
                ip_address="127.0.0.1",
                user_agent="pip/24.0",
            )
        )
    db.flush()
    ids = db.scalars(sa.select(Download.id).order_by(Download.id)).all()
    assert len(ids) == 3 and ids[0] < ids[1] < ids[2]


def test_deleting_a_package_removes_releases_and_files(db: Session, make: Factory) -> None:
    package = make.package("short-lived", versions=("1.0", "2.0"))
    db.delete(package)
    db.flush()
    assert db.scalar(sa.select(sa.func.count()).select_from(Release)) == 0
