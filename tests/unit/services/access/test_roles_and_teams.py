from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.audit import AuditEvent
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Visibility
from wheelyard.services.access import roles, teams
from wheelyard.services.audit import Action, Origin

ORIGIN = Origin("127.0.0.1", "tests")


def test_effective_role_is_the_highest_of_direct_and_team_roles(db: Session, make: Factory) -> None:
    owner, member = make.user(), make.user()
    admin = make.user(is_admin=True)
    package = make.package("demo", owner=owner)
    other = make.package("other", owner=owner)
    assert roles.effective_role(db, member.id, package.id) is None
    db.add(Maintainer(user=member, package=package, role=Role.READER))
    db.flush()
    assert roles.effective_role(db, member.id, package.id) == Role.READER
    readers = teams.create(db, "readers", actor=admin, origin=ORIGIN)
    makers = teams.create(db, "Makers", actor=admin, origin=ORIGIN)
    teams.add_member(db, readers, member.email, actor=admin, origin=ORIGIN)
    teams.add_member(db, makers, member.email, actor=admin, origin=ORIGIN)
    teams.grant(db, readers, package, Role.READER, actor=owner, origin=ORIGIN)
    teams.grant(db, makers, package, Role.MAINTAINER, actor=owner, origin=ORIGIN)
    assert roles.effective_role(db, member.id, package.id) == Role.MAINTAINER
    assert roles.may_upload(db, member.id, package.id)
    assert not roles.can_manage(db, member, package)
    teams.grant(db, makers, package, Role.OWNER, actor=owner, origin=ORIGIN)
    assert roles.can_manage(db, member, package)
    assert roles.can_manage(db, admin, package)
    teams.revoke(db, makers, package, actor=owner, origin=ORIGIN)
    assert roles.effective_role(db, member.id, package.id) == Role.READER
    assert not roles.may_upload(db, member.id, package.id)
    assert roles.effective_role(db, member.id, other.id) is None
    assert roles.effective_role(db, owner.id, package.id) == Role.OWNER


def test_readable_private_ids_are_the_private_projects_from_either_path(
    db: Session, make: Factory
) -> None:
    owner, member, stranger = make.user(), make.user(), make.user()
    direct = make.package("direct", owner=owner)
    via_team = make.package("via-team", owner=owner)
    unrelated = make.package("unrelated", owner=owner)
    public_with_a_role = make.package("public-one", owner=owner)
    for package in (direct, via_team, unrelated):
        package.visibility = Visibility.PRIVATE
    db.add(Maintainer(user=member, package=direct, role=Role.READER))
    db.add(Maintainer(user=member, package=public_with_a_role, role=Role.READER))
    team = teams.create(db, "crew", actor=None, origin=ORIGIN)
    teams.add_member(db, team, member.email, actor=None, origin=ORIGIN)
    teams.grant(db, team, via_team, Role.READER, actor=None, origin=ORIGIN)
    teams.grant(db, team, direct, Role.MAINTAINER, actor=None, origin=ORIGIN)
    assert roles.readable_private_ids(db, member.id) == frozenset({"direct", "via-team"})
    assert roles.readable_private_ids(db, stranger.id) == frozenset()
    teams.remove_member(db, team, member.email, actor=None, origin=ORIGIN)
    assert roles.readable_private_ids(db, member.id) == frozenset({"direct"})


def test_team_names_are_checked_and_unique_whatever_the_spelling(
    db: Session, make: Factory
) -> None:
    teams.create(db, "Data_Team", actor=None, origin=ORIGIN)
    with pytest.raises(teams.TeamError, match="already a team"):
        teams.create(db, "data-team", actor=None, origin=ORIGIN)
    for bad in ("", "-x", "a b", "x" * 51, "ü"):
        with pytest.raises(teams.TeamError, match="team name"):
            teams.create(db, bad, actor=None, origin=ORIGIN)
    found = teams.find(db, "DATA.team")
    assert found is not None and found.name == "Data_Team"


def test_refused_membership_changes(db: Session, make: Factory) -> None:
    user = make.user()
    team = teams.create(db, "crew", actor=None, origin=ORIGIN)
    with pytest.raises(teams.TeamError, match="no account"):
        teams.add_member(db, team, "nobody@example.com", actor=None, origin=ORIGIN)
    teams.add_member(db, team, user.email.upper(), actor=None, origin=ORIGIN)
    with pytest.raises(teams.TeamError, match="already a member"):
        teams.add_member(db, team, user.email, actor=None, origin=ORIGIN)
    assert teams.members_of(db, team) == [user]
    assert teams.teams_of(db, user.id) == [team]
    teams.remove_member(db, team, user.email, actor=None, origin=ORIGIN)
    with pytest.raises(teams.TeamError, match="not a member"):
        teams.remove_member(db, team, user.email, actor=None, origin=ORIGIN)


def test_every_change_is_audited(db: Session, make: Factory) -> None:
    owner, member = make.user(), make.user(email="member@example.com")
    package = make.package("demo", owner=owner)
    team = teams.create(db, "crew", actor=None, origin=ORIGIN)
    teams.add_member(db, team, member.email, actor=None, origin=ORIGIN)
    teams.grant(db, team, package, Role.READER, actor=owner, origin=ORIGIN)
    teams.grant(db, team, package, Role.READER, actor=owner, origin=ORIGIN)  # no change, no row
    teams.grant(db, team, package, Role.MAINTAINER, actor=owner, origin=ORIGIN)
    assert teams.projects_of(db, team) == [(package, Role.MAINTAINER)]
    assert teams.teams_on(db, package) == [(team, Role.MAINTAINER)]
    teams.revoke(db, team, package, actor=owner, origin=ORIGIN)
    with pytest.raises(teams.TeamError, match="holds no role"):
        teams.revoke(db, team, package, actor=owner, origin=ORIGIN)
    teams.remove_member(db, team, member.email, actor=None, origin=ORIGIN)
    query = sa.select(AuditEvent.action, AuditEvent.user_id, AuditEvent.detail)
    rows = [tuple(row) for row in db.execute(query.order_by(AuditEvent.id))]
    assert rows == [
        (Action.TEAM_CREATED, None, "team crew (command line)"),
        (Action.TEAM_MEMBER_ADDED, None, "member@example.com to team crew (command line)"),
        (Action.TEAM_ROLE_GRANTED, owner.id, "team crew as Reader"),
        (Action.TEAM_ROLE_GRANTED, owner.id, "team crew as Maintainer"),
        (Action.TEAM_ROLE_REVOKED, owner.id, "team crew"),
        (Action.TEAM_MEMBER_REMOVED, None, "member@example.com from team crew (command line)"),
    ]


def test_projects_with_roles_come_from_either_path_with_the_highest_role(
    db: Session, make: Factory
) -> None:
    owner, member = make.user(), make.user()
    direct = make.package("direct", owner=owner)
    via_team = make.package("via-team", owner=owner)
    both = make.package("both", owner=owner)
    make.package("unrelated", owner=owner)
    db.add(Maintainer(user=member, package=direct, role=Role.READER))
    db.add(Maintainer(user=member, package=both, role=Role.READER))
    team = teams.create(db, "crew", actor=None, origin=ORIGIN)
    teams.add_member(db, team, member.email, actor=None, origin=ORIGIN)
    teams.grant(db, team, via_team, Role.MAINTAINER, actor=None, origin=ORIGIN)
    teams.grant(db, team, both, Role.OWNER, actor=None, origin=ORIGIN)

    found = roles.projects_with_roles(db, member.id)

    assert [(package.id, role) for package, role in found] == [
        ("both", Role.OWNER),
        ("direct", Role.READER),
        ("via-team", Role.MAINTAINER),
    ]
    assert roles.projects_with_roles(db, make.user().id) == []
