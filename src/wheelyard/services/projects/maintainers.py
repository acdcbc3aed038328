"""Who maintains what: roles on projects, and the rule that a project keeps an owner."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.user import User
from wheelyard.services import audit, journal
from wheelyard.services.accounts.users import find_user_by_email
from wheelyard.services.audit import Origin


class MaintainerError(ValueError):
    """A change to a project's maintainers that cannot be made; the message is for the user."""


def role_of(db: Session, user_id: int, package_id: str) -> Role | None:
    link = db.get(Maintainer, (user_id, package_id))
    return link.role if link is not None else None


def projects_of(db: Session, user_id: int) -> list[Maintainer]:
    """The user's maintainer links, each with its package, by project name."""
    query = (
        sa.select(Maintainer)
        .join(Maintainer.package)
        .where(Maintainer.user_id == user_id)
        .options(selectinload(Maintainer.package))
        .order_by(Package.id)
    )
    return list(db.scalars(query))


def links_of(db: Session, package: Package) -> list[Maintainer]:
    """The project's maintainers, owners first, then by name."""
    query = (
        sa.select(Maintainer)
        .join(Maintainer.user)
        .where(Maintainer.package_id == package.id)
        .options(selectinload(Maintainer.user))
    )
    links = list(db.scalars(query))
    return sorted(links, key=lambda link: (link.role != Role.OWNER, link.user.name.lower()))


def parse_role(text: str) -> Role:
    for role in Role:
        if role.value == text:
            return role
    raise MaintainerError(f"Unknown role; choose {' or '.join(r.value for r in Role)}.")


def _owner_count(db: Session, package_id: str) -> int:
    query = sa.select(sa.func.count()).where(
        Maintainer.package_id == package_id, Maintainer.role == Role.OWNER
    )
    return db.scalar(query) or 0


def _link(db: Session, package: Package, user_id: int) -> Maintainer:
    link = db.get(Maintainer, (user_id, package.id))
    if link is None:
        raise MaintainerError("That user is not a maintainer of this project.")
    return link


def add(
    db: Session, package: Package, email: str, role: Role, *, actor: User, origin: Origin
) -> Maintainer:
    user = find_user_by_email(db, email)
    if user is None:
        raise MaintainerError("There is no account with that email address.")
    if db.get(Maintainer, (user.id, package.id)) is not None:
        raise MaintainerError(f"{user.name} already maintains {package.name}.")
    link = Maintainer(user_id=user.id, package_id=package.id, role=role)
    db.add(link)
    db.flush()
    # Journalled: the JSON API's ``ownership`` shows roles, and its cached documents (and
    # mirrors) follow the journal.
    journal.record(db, package, journal.Action.ADD_MAINTAINER, user_id=actor.id)
    audit.record(
        db,
        audit.Action.ADD_MAINTAINER,
        origin=origin,
        user_id=actor.id,
        package_id=package.id,
        detail=f"{user.email} as {role.value}",
    )
    return link


def change_role(
    db: Session, package: Package, user_id: int, role: Role, *, actor: User, origin: Origin
) -> None:
    link = _link(db, package, user_id)
    if link.role == role:
        return
    if link.role == Role.OWNER and _owner_count(db, package.id) <= 1:
        raise MaintainerError("A project needs at least one owner; make someone else owner first.")
    link.role = role
    db.flush()
    journal.record(db, package, journal.Action.CHANGE_ROLE, user_id=actor.id)
    audit.record(
        db,
        audit.Action.CHANGE_ROLE,
        origin=origin,
        user_id=actor.id,
        package_id=package.id,
        detail=f"{link.user.email} is now {role.value}",
    )


def remove(db: Session, package: Package, user_id: int, *, actor: User, origin: Origin) -> None:
    link = _link(db, package, user_id)
    if link.role == Role.OWNER and _owner_count(db, package.id) <= 1:
        raise MaintainerError("A project needs at least one owner; the last one cannot leave.")
    email = link.user.email
    db.delete(link)
    db.flush()
    journal.record(db, package, journal.Action.REMOVE_MAINTAINER, user_id=actor.id)
    audit.record(
        db,
        audit.Action.REMOVE_MAINTAINER,
        origin=origin,
        user_id=actor.id,
        package_id=package.id,
        detail=email,
    )
