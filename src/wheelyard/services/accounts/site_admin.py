"""What a site admin does to accounts: find, deactivate, reset two-factor, make admin, remove.

Every change leaves an audit row naming the admin (``actor_id``; None from the command line)
and the account's address. The caller checks that the actor is an admin.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.api_token import ApiToken
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.recovery_code import RecoveryCode
from wheelyard.data.user import User
from wheelyard.services import audit
from wheelyard.services.accounts import two_factor
from wheelyard.services.accounts.users import end_sessions, find_user_by_email
from wheelyard.services.audit import Origin

SEARCH_LIMIT = 50
MAX_QUERY_LENGTH = 320


class SiteAdminError(ValueError):
    """A change that cannot be made as asked; the message is for the admin."""


def search(db: Session, query: str, limit: int = SEARCH_LIMIT) -> list[User]:
    """Accounts whose name or email contains ``query`` (every account when empty), by id."""
    statement = sa.select(User).order_by(User.id).limit(limit)
    query = query.strip()[:MAX_QUERY_LENGTH]
    if query:
        # LIKE's own wildcards typed into the box are matched as themselves.
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            sa.or_(
                sa.func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    return list(db.scalars(statement))


def find(db: Session, email: str) -> User:
    user = find_user_by_email(db, email.strip())
    if user is None:
        raise SiteAdminError(f"There is no account with the address {email.strip()!r}.")
    return user


def set_active(
    db: Session, user: User, active: bool, *, actor_id: int | None, origin: Origin
) -> bool:
    """Deactivate (no login, no token, no upload; sessions end) or reactivate an account."""
    if user.is_active == active:
        return False
    if not active and user.id == actor_id:
        raise SiteAdminError("You cannot deactivate your own account.")
    user.is_active = active
    if not active:
        end_sessions(user)
    audit.record(
        db,
        audit.Action.ACCOUNT_REACTIVATED if active else audit.Action.ACCOUNT_DEACTIVATED,
        origin=origin,
        user_id=actor_id,
        detail=user.email,
    )
    return True


def reset_two_factor(db: Session, user: User, *, actor_id: int | None, origin: Origin) -> bool:
    """Turn the account's two-factor login off (a lost phone); it logs in with its password
    and sets up a new authenticator. False when it had none."""
    if not two_factor.is_enabled(user) and user.totp_pending_secret is None:
        return False
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_counter = None
    db.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(
        db, audit.Action.TWO_FACTOR_RESET, origin=origin, user_id=actor_id, detail=user.email
    )
    return True


def set_admin(
    db: Session, user: User, admin: bool, *, actor_id: int | None, origin: Origin
) -> bool:
    if user.is_admin == admin:
        return False
    if not admin and user.id == actor_id:
        raise SiteAdminError("You cannot take away your own admin rights.")
    user.is_admin = admin
    audit.record(
        db,
        audit.Action.ADMIN_GRANTED if admin else audit.Action.ADMIN_REVOKED,
        origin=origin,
        user_id=actor_id,
        detail=user.email,
    )
    return True


def remove(db: Session, user: User, *, actor_id: int | None, origin: Origin) -> int:
    """Delete the account with its tokens and roles; returns how many tokens went with it.

    Audit rows stay (their link to the account is cleared), so the trail still shows what
    the account did. An account that is the only owner of a project is refused: the
    project would be left with nobody to manage it; transfer it first.
    """
    if user.id == actor_id:
        raise SiteAdminError("You cannot remove your own account.")
    sole = sole_owned(db, user)
    if sole:
        raise SiteAdminError(
            f"{user.email} is the only owner of {', '.join(sole)}; transfer "
            + ("it" if len(sole) == 1 else "them")
            + " to someone else first."
        )
    tokens = db.scalar(sa.select(sa.func.count()).where(ApiToken.user_id == user.id)) or 0
    email = user.email
    db.delete(user)
    db.flush()
    audit.record(
        db,
        audit.Action.ACCOUNT_REMOVED,
        origin=origin,
        user_id=actor_id,
        detail=f"{email} and {tokens} API token(s)",
    )
    return tokens


def sole_owned(db: Session, user: User) -> list[str]:
    """The names of the projects ``user`` is the only owner of."""
    counted = (
        sa.select(Maintainer.package_id)
        .where(Maintainer.role == Role.OWNER)
        .group_by(Maintainer.package_id)
        .having(sa.func.count() == 1)
    )
    query = (
        sa.select(Package.name)
        .join(Maintainer, Maintainer.package_id == Package.id)
        .where(
            Maintainer.user_id == user.id,
            Maintainer.role == Role.OWNER,
            Package.id.in_(counted),
        )
        .order_by(Package.id)
    )
    return list(db.scalars(query))
