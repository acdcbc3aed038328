"""The one place that says what role a user holds on a project.

A user holds a role directly (maintainers) and through each team they belong to
(team_members, team_roles); the effective role is the highest of them. Uploads, the manage
pages and the visibility of private projects all ask here, so a team's maintainer uploads
as a direct one does and a Reader, however they got the role, installs only.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, Visibility
from wheelyard.data.team_member import TeamMember
from wheelyard.data.team_role import TeamRole
from wheelyard.data.user import User


def effective_role(db: Session, user_id: int, package_id: str) -> Role | None:
    """The highest of the user's direct role and their teams' roles on the project."""
    direct = sa.select(Maintainer.role).where(
        Maintainer.user_id == user_id, Maintainer.package_id == package_id
    )
    through_teams = (
        sa.select(TeamRole.role)
        .join(TeamMember, TeamMember.team_id == TeamRole.team_id)
        .where(TeamMember.user_id == user_id, TeamRole.package_id == package_id)
    )
    roles = list(db.scalars(sa.union_all(direct, through_teams)))
    if not roles:
        return None
    return max((Role(role) for role in roles), key=lambda role: role.rank)


def projects_with_roles(db: Session, user_id: int) -> list[tuple[Package, Role]]:
    """Every project the user holds a role on, directly or through a team, with the highest
    of those roles, by project id (what a token of theirs may be scoped to)."""
    direct = sa.select(Maintainer.package_id, Maintainer.role).where(Maintainer.user_id == user_id)
    through_teams = (
        sa.select(TeamRole.package_id, TeamRole.role)
        .join(TeamMember, TeamMember.team_id == TeamRole.team_id)
        .where(TeamMember.user_id == user_id)
    )
    highest: dict[str, Role] = {}
    for package_id, role in db.execute(sa.union_all(direct, through_teams)):
        held = Role(role)
        if package_id not in highest or held.rank > highest[package_id].rank:
            highest[package_id] = held
    if not highest:
        return []
    found = db.scalars(sa.select(Package).where(Package.id.in_(highest)).order_by(Package.id))
    return [(package, highest[package.id]) for package in found]


def readable_private_ids(db: Session, user_id: int) -> frozenset[str]:
    """The private projects the user holds any role on, directly or through a team (a
    handful, not the whole index: the per-reader part of the project list is built from it)."""
    private = Package.visibility == Visibility.PRIVATE
    direct = (
        sa.select(Maintainer.package_id)
        .join(Package, Package.id == Maintainer.package_id)
        .where(Maintainer.user_id == user_id, private)
    )
    through_teams = (
        sa.select(TeamRole.package_id)
        .join(TeamMember, TeamMember.team_id == TeamRole.team_id)
        .join(Package, Package.id == TeamRole.package_id)
        .where(TeamMember.user_id == user_id, private)
    )
    return frozenset(db.scalars(sa.union(direct, through_teams)))


def may_upload(db: Session, user_id: int, package_id: str) -> bool:
    role = effective_role(db, user_id, package_id)
    return role is not None and role.may_upload


def can_manage(db: Session, user: User, package: Package) -> bool:
    """Owners (directly or through a team) manage their projects; administrators every one."""
    return user.is_admin or effective_role(db, user.id, package.id) == Role.OWNER
