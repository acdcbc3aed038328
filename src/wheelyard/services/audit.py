"""The audit trail: who did what to which account or project, and from where."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.audit import AuditEvent


class Action:
    LOGIN = "login"
    LOGIN_FAILED = "login failed"
    LOGOUT = "logout"
    REGISTER = "register"
    PASSWORD_CHANGED = "password changed"  # noqa: S105 (an action name)
    TOKEN_CREATED = "token created"  # noqa: S105 (an action name)
    TOKEN_USED = "token used"  # noqa: S105 (an action name)
    TOKEN_REVOKED = "token revoked"  # noqa: S105 (an action name)
    UPLOAD = "upload"
    YANK = "yank"
    UNYANK = "unyank"
    REMOVE_FILE = "remove file"
    REMOVE_RELEASE = "remove release"
    ADD_MAINTAINER = "add maintainer"
    REMOVE_MAINTAINER = "remove maintainer"
    CHANGE_ROLE = "change role"


@dataclass(frozen=True)
class Origin:
    """Where a request came from; the web and API layers fill it in, the CLI leaves it empty."""

    ip_address: str | None = None
    user_agent: str | None = None


_MAX_USER_AGENT = 512


def record(
    db: Session,
    action: str,
    *,
    origin: Origin = Origin(),
    user_id: int | None = None,
    package_id: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        user_id=user_id,
        package_id=package_id,
        ip_address=origin.ip_address,
        user_agent=(origin.user_agent or None) and origin.user_agent[:_MAX_USER_AGENT],
        detail=detail,
    )
    db.add(event)
    return event


def recent_for_user(db: Session, user_id: int, limit: int = 20) -> list[AuditEvent]:
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.user_id == user_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def recent_for_package(db: Session, package_id: str, limit: int = 50) -> list[AuditEvent]:
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.package_id == package_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))
