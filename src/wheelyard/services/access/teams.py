"""Teams: named groups of users, each holding a role on some projects.

Modelled on PyPI's organisation teams, without the organisation: administrators create
teams and choose their members (membership is who-works-where, a site matter); an owner of
a project grants a team a role on it, as they would a user. Every change is audited.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.maintainer import Role
from wheelyard.data.package import Package
from wheelyard.data.team import Team
from wheelyard.data.team_member import TeamMember
from wheelyard.data.team_role import TeamRole
from wheelyard.data.user import User
from wheelyard.services import audit
from wheelyard.services.accounts.users import find_user_by_email
from wheelyard.services.audit import Origin
from wheelyard.services.naming import normalize_name

MAX_NAME_LENGTH = 50
_VALID_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


class TeamError(ValueError):
    """A change to a team that cannot be made; the message is for the user."""


def find(db: Session, name: str) -> Team | None:
    if len(name) > MAX_NAME_LENGTH or not _VALID_NAME.match(name):
        return None
    return db.scalar(sa.select(Team).where(Team.normalized == normalize_name(name)))


def all_teams(db: Session) -> list[Team]:
    return list(db.scalars(sa.select(Team).order_by(Team.normalized)))


def teams_of(db: Session, user_id: int) -> list[Team]:
    query = (
        sa.select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id)
        .order_by(Team.normalized)
    )
    return list(db.scalars(query))


def is_member(db: Session, team: Team, user_id: int) -> bool:
    return db.get(TeamMember, (team.id, user_id)) is not None


def members_of(db: Session, team: Team) -> list[User]:
    query = (
        sa.select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id)
        .order_by(sa.func.lower(User.name), User.id)
    )
    return list(db.scalars(query))


def projects_of(db: Session, team: Team) -> list[tuple[Package, Role]]:
    """The projects the team holds a role on, by project id."""
    query = (
        sa.select(Package, TeamRole.role)
        .join(TeamRole, TeamRole.package_id == Package.id)
        .where(TeamRole.team_id == team.id)
        .order_by(Package.id)
    )
    return [(package, Role(role)) for package, role in db.execute(query)]


def teams_on(db: Session, package: Package) -> list[tuple[Team, Role]]:
    """The teams holding a role on the project, by team name."""
    query = (
        sa.select(Team, TeamRole.role)
        .join(TeamRole, TeamRole.team_id == Team.id)
        .where(TeamRole.package_id == package.id)
        .order_by(Team.normalized)
    )
    return [(team, Role(role)) for team, role in db.execute(query)]


def _described(detail: str, actor: User | None) -> str:
    return detail if actor is not None else f"{detail} (command line)"


def create(db: Session, name: str, *, actor: User | None, origin: Origin) -> Team:
    """A new team; ``actor`` None for the command line."""
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH or not _VALID_NAME.match(name):
        raise TeamError(
            f"A team name has 1 to {MAX_NAME_LENGTH} letters, digits, '.', '_' or '-', "
            "and starts and ends with a letter or digit."
        )
    if find(db, name) is not None:
        raise TeamError(f"There is already a team named {name!r}.")
    team = Team(name=name, normalized=normalize_name(name))
    db.add(team)
    db.flush()
    audit.record(
        db,
        audit.Action.TEAM_CREATED,
        origin=origin,
        user_id=actor.id if actor is not None else None,
        detail=_described(f"team {team.name}", actor),
    )
    return team


def add_member(db: Session, team: Team, email: str, *, actor: User | None, origin: Origin) -> User:
    user = find_user_by_email(db, email)
    if user is None:
        raise TeamError("There is no account with that email address.")
    if is_member(db, team, user.id):
        raise TeamError(f"{user.name} is already a member of team {team.name}.")
    db.add(TeamMember(team_id=team.id, user_id=user.id))
    db.flush()
    audit.record(
        db,
        audit.Action.TEAM_MEMBER_ADDED,
        origin=origin,
        user_id=actor.id if actor is not None else None,
        detail=_described(f"{user.email} to team {team.name}", actor),
    )
    return user


def remove_member(
    db: Session, team: Team, email: str, *, actor: User | None, origin: Origin
) -> User:
    user = find_user_by_email(db, email)
    link = db.get(TeamMember, (team.id, user.id)) if user is not None else None
    if user is None or link is None:
        raise TeamError(f"That account is not a member of team {team.name}.")
    db.delete(link)
    db.flush()
    audit.record(
        db,
        audit.Action.TEAM_MEMBER_REMOVED,
        origin=origin,
        user_id=actor.id if actor is not None else None,
        detail=_described(f"{user.email} from team {team.name}", actor),
    )
    return user


def grant(
    db: Session, team: Team, package: Package, role: Role, *, actor: User | None, origin: Origin
) -> None:
    """Give the team ``role`` on the project, or change the role it holds there."""
    link = db.get(TeamRole, (team.id, package.id))
    if link is not None and link.role == role:
        return
    if link is None:
        db.add(TeamRole(team_id=team.id, package_id=package.id, role=role))
    else:
        link.role = role
    db.flush()
    audit.record(
        db,
        audit.Action.TEAM_ROLE_GRANTED,
        origin=origin,
        user_id=actor.id if actor is not None else None,
        package_id=package.id,
        detail=_described(f"team {team.name} as {role.value}", actor),
    )


def revoke(
    db: Session, team: Team, package: Package, *, actor: User | None, origin: Origin
) -> None:
    link = db.get(TeamRole, (team.id, package.id))
    if link is None:
        raise TeamError(f"Team {team.name} holds no role on {package.name}.")
    db.delete(link)
    db.flush()
    audit.record(
        db,
        audit.Action.TEAM_ROLE_REVOKED,
        origin=origin,
        user_id=actor.id if actor is not None else None,
        package_id=package.id,
        detail=_described(f"team {team.name}", actor),
    )
