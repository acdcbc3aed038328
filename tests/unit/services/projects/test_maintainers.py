from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Role
from wheelyard.services.audit import Origin
from wheelyard.services.projects import maintainers

ORIGIN = Origin("127.0.0.1", "tests")


def audit_rows(db: Session) -> list[tuple[str, str | None]]:
    query = sa.select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id)
    return [(row.action, row.detail) for row in db.execute(query)]


def test_add_by_email_in_any_case_with_an_audit_row(db: Session, make: Factory) -> None:
    owner = make.user()
    helper = make.user(email="helper@example.com")
    package = make.package("demo", owner=owner)
    maintainers.add(db, package, "HELPER@example.com", Role.MAINTAINER, actor=owner, origin=ORIGIN)
    assert maintainers.role_of(db, helper.id, package.id) == Role.MAINTAINER
    assert audit_rows(db) == [("add maintainer", "helper@example.com as Maintainer")]
    assert [link.user for link in maintainers.projects_of(db, helper.id)] == [helper]


def test_add_refuses_unknown_emails_and_existing_maintainers(db: Session, make: Factory) -> None:
    owner = make.user()
    package = make.package("demo", owner=owner)
    with pytest.raises(maintainers.MaintainerError, match="no account"):
        maintainers.add(db, package, "nobody@example.com", Role.OWNER, actor=owner, origin=ORIGIN)
    with pytest.raises(maintainers.MaintainerError, match="already maintains"):
        maintainers.add(db, package, owner.email, Role.MAINTAINER, actor=owner, origin=ORIGIN)
    assert audit_rows(db) == []


def test_a_project_keeps_at_least_one_owner(db: Session, make: Factory) -> None:
    owner, second = make.user(), make.user()
    package = make.package("demo", owner=owner)
    with pytest.raises(maintainers.MaintainerError, match="at least one owner"):
        maintainers.change_role(db, package, owner.id, Role.MAINTAINER, actor=owner, origin=ORIGIN)
    with pytest.raises(maintainers.MaintainerError, match="last one"):
        maintainers.remove(db, package, owner.id, actor=owner, origin=ORIGIN)
    maintainers.add(db, package, second.email, Role.OWNER, actor=owner, origin=ORIGIN)
    maintainers.change_role(db, package, owner.id, Role.MAINTAINER, actor=owner, origin=ORIGIN)
    maintainers.remove(db, package, owner.id, actor=second, origin=ORIGIN)
    assert maintainers.role_of(db, owner.id, package.id) is None
    assert maintainers.role_of(db, second.id, package.id) == Role.OWNER
    assert [action for action, _ in audit_rows(db)] == [
        "add maintainer",
        "change role",
        "remove maintainer",
    ]


def test_changes_to_someone_who_is_not_a_maintainer_are_refused(db: Session, make: Factory) -> None:
    owner, stranger = make.user(), make.user()
    package = make.package("demo", owner=owner)
    with pytest.raises(maintainers.MaintainerError, match="not a maintainer"):
        maintainers.remove(db, package, stranger.id, actor=owner, origin=ORIGIN)
    with pytest.raises(maintainers.MaintainerError, match="not a maintainer"):
        maintainers.change_role(db, package, stranger.id, Role.OWNER, actor=owner, origin=ORIGIN)


@pytest.mark.parametrize("text", ["", "owner", "Admin", "Owner "])
def test_parse_role_accepts_only_the_two_roles(text: str) -> None:
    with pytest.raises(maintainers.MaintainerError):
        maintainers.parse_role(text)


def test_parse_role(make: Factory) -> None:
    assert maintainers.parse_role("Owner") is Role.OWNER
    assert maintainers.parse_role("Maintainer") is Role.MAINTAINER


def test_links_of_lists_owners_first(db: Session, make: Factory) -> None:
    owner = make.user(name="Zed")
    helper = make.user(name="Amy")
    package = make.package("demo", owner=owner)
    maintainers.add(db, package, helper.email, Role.MAINTAINER, actor=owner, origin=ORIGIN)
    assert [link.user.name for link in maintainers.links_of(db, package)] == ["Zed", "Amy"]
