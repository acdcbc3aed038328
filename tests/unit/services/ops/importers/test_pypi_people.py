"""services.ops.importers.pypi_people: a document's authors and maintainers as users."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services.ops.importers.pypi_people import Person, add_people, people_in


def new_package(db: Session, name: str = "demo") -> Package:
    package = Package(id=name, name=name)
    db.add(package)
    db.flush()
    return package


@pytest.fixture
def demo(db: Session) -> Package:
    return new_package(db)


def links_of(db: Session, package: Package) -> list[Maintainer]:
    return list(db.scalars(sa.select(Maintainer).where(Maintainer.package_id == package.id)))


# --- who is named -----------------------------------------------------------------------------


def test_names_pair_with_addresses_in_order() -> None:
    assert people_in("Ann; Bob", "ann@example.org, Bob@Example.ORG") == [
        Person("Ann", "ann@example.org"),
        Person("Bob", "bob@example.org"),
    ]


def test_one_name_for_several_addresses_names_them_all() -> None:
    assert people_in("The Team", "a@example.org, b@example.org") == [
        Person("The Team", "a@example.org"),
        Person("The Team", "b@example.org"),
    ]


def test_without_any_name_the_address_is_the_name() -> None:
    assert people_in(None, "a@example.org") == [Person("a@example.org", "a@example.org")]
    assert people_in("UNKNOWN", "<b@example.org>") == [Person("b@example.org", "b@example.org")]


@pytest.mark.parametrize("emails", [None, "", "UNKNOWN", "not-an-address", 42])
def test_no_valid_address_names_nobody(emails: object) -> None:
    assert people_in("Ann", emails) == []


# --- linking them -----------------------------------------------------------------------------


def test_every_address_of_a_multi_address_field_becomes_an_owner(
    db: Session, demo: Package
) -> None:
    created = add_people(
        db,
        demo,
        {
            "author": "Ann Example; Bob Example",
            "author_email": "Ann@Example.ORG;  bob@example.org, not-an-address",
        },
    )
    assert created == 2
    links = links_of(db, demo)
    people = sorted((link.user.name, link.user.email, link.role) for link in links)
    assert people == [
        ("Ann Example", "ann@example.org", Role.OWNER),
        ("Bob Example", "bob@example.org", Role.OWNER),
    ]
    assert all(link.user.hashed_password is None for link in links)


def test_display_names_in_the_address_field_name_the_users(db: Session, demo: Package) -> None:
    add_people(
        db,
        demo,
        {"author": "The Demo Team", "author_email": "Ann <ann@example.org>, bob@example.org"},
    )
    names = db.scalars(sa.select(User.name).order_by(User.email)).all()
    assert names == ["Ann", "The Demo Team"]


def test_an_existing_user_with_the_same_email_is_reused(
    db: Session, make: Factory, demo: Package
) -> None:
    ada = make.user(name="Ada L.", email="ada@example.org", password="a password")
    hashed = ada.hashed_password
    created = add_people(db, demo, {"author": "Ada Lovelace", "author_email": "ADA@example.org"})
    assert created == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    (link,) = links_of(db, demo)
    assert (link.user_id, link.role) == (ada.id, Role.OWNER)
    # The account is left as its owner keeps it.
    assert (ada.name, ada.hashed_password) == ("Ada L.", hashed)


def test_an_author_who_is_also_maintainer_is_owner_only(db: Session, demo: Package) -> None:
    info = {
        "author": "Stu",
        "author_email": "stu@example.org",
        "maintainer": "Stu",
        "maintainer_email": "STU@example.org",
    }
    add_people(db, demo, info)
    links = links_of(db, demo)
    assert [(link.user.email, link.role) for link in links] == [("stu@example.org", Role.OWNER)]


def test_maintainers_become_maintainers(db: Session, demo: Package) -> None:
    add_people(db, demo, {"maintainer": "Cy", "maintainer_email": "cy@example.org"})
    assert [(link.user.name, link.role) for link in links_of(db, demo)] == [("Cy", Role.MAINTAINER)]


def test_an_existing_link_keeps_its_role(db: Session, make: Factory, demo: Package) -> None:
    ada = make.user(email="ada@example.org")
    db.add(Maintainer(user_id=ada.id, package_id=demo.id, role=Role.MAINTAINER))
    db.flush()
    add_people(db, demo, {"author": "Ada", "author_email": "ada@example.org"})
    assert [(link.user_id, link.role) for link in links_of(db, demo)] == [(ada.id, Role.MAINTAINER)]


def test_people_shared_by_projects_are_one_user(db: Session) -> None:
    one, two = new_package(db, "one"), new_package(db, "two")
    add_people(db, one, {"author": "Ada", "author_email": "ada@example.org"})
    add_people(db, two, {"author": "Ada", "author_email": "Ada@Example.org"})
    db.flush()
    db.expire_all()
    (user,) = db.scalars(sa.select(User))
    assert sorted(package.id for package in user.packages) == ["one", "two"]
