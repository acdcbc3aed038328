"""The audit trail: who did what to which account or project, and from where."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.audit import AuditEvent


class Action(StrEnum):
    """Every kind of row the trail holds; the values are what the ``action`` column stores.

    The rate limits count some of them (failed logins, sign-ups, codes and reset requests),
    so a value, once stored, is never renamed.
    """

    LOGIN = "login"
    LOGIN_FAILED = "login failed"
    LOGOUT = "logout"
    REGISTER = "register"
    # An address already in use was tried at sign-up: counted by the registration limits.
    REGISTER_FAILED = "register failed"
    PASSWORD_CHANGED = "password changed"  # noqa: S105 (an action name)
    PASSWORD_RESET_REQUESTED = "password reset requested"  # noqa: S105 (an action name)
    PASSWORD_RESET = "password reset"  # noqa: S105 (an action name)
    # A link to verify the address was mailed: counted by the verification-mail limits.
    EMAIL_VERIFICATION_SENT = "email verification sent"
    EMAIL_VERIFIED = "email verified"
    TOKEN_CREATED = "token created"  # noqa: S105 (an action name)
    TOKEN_USED = "token used"  # noqa: S105 (an action name)
    TOKEN_REVOKED = "token revoked"  # noqa: S105 (an action name)
    TWO_FACTOR_ENABLED = "two-factor enabled"
    TWO_FACTOR_DISABLED = "two-factor disabled"
    # A wrong TOTP or recovery code: counted by the two-factor limits.
    TWO_FACTOR_FAILED = "two-factor failed"
    RECOVERY_CODE_USED = "recovery code used"
    RECOVERY_CODES_REPLACED = "recovery codes replaced"
    UPLOAD = "upload"
    YANK = "yank"
    UNYANK = "unyank"
    REMOVE_FILE = "remove file"
    REMOVE_RELEASE = "remove release"
    # A retention rule set or cleared, for one project (package_id) or site-wide (none).
    RETENTION_SET = "retention rule set"
    RETENTION_CLEARED = "retention rule cleared"
    ADD_MAINTAINER = "add maintainer"
    REMOVE_MAINTAINER = "remove maintainer"
    CHANGE_ROLE = "change role"
    REQUIRE_2FA_ON = "require two-factor on"
    REQUIRE_2FA_OFF = "require two-factor off"
    PROJECT_STATUS_CHANGED = "project status changed"
    # The site administrators' actions (web/views/admin.py, ``wheelyard site``).
    SITE_READ_ONLY_ON = "site read-only on"
    SITE_READ_ONLY_OFF = "site read-only off"
    SITE_REGISTRATION_OPENED = "site registration opened"
    SITE_REGISTRATION_CLOSED = "site registration closed"
    SITE_REQUIRE_2FA_ON = "site require two-factor on"
    SITE_REQUIRE_2FA_OFF = "site require two-factor off"
    NAME_PROHIBITED = "name prohibited"
    NAME_ALLOWED = "name allowed"
    ACCOUNT_DEACTIVATED = "account deactivated"
    ACCOUNT_REACTIVATED = "account reactivated"
    TWO_FACTOR_RESET = "two-factor reset by an admin"
    ADMIN_GRANTED = "admin granted"
    ADMIN_REVOKED = "admin revoked"
    ACCOUNT_REMOVED = "account removed"
    OWNERSHIP_TRANSFERRED = "ownership transferred"
    PROJECT_REMOVED = "project removed"
    VISIBILITY_CHANGED = "visibility changed"
    TEAM_CREATED = "team created"
    TEAM_MEMBER_ADDED = "team member added"
    TEAM_MEMBER_REMOVED = "team member removed"
    TEAM_ROLE_GRANTED = "team role granted"
    TEAM_ROLE_REVOKED = "team role revoked"
    PUBLISHER_ADDED = "trusted publisher added"
    PUBLISHER_REMOVED = "trusted publisher removed"
    PUBLISHER_TOKEN_MINTED = "trusted publisher token minted"  # noqa: S105 (an action name)


# How the account and manage pages say what happened.
WORDING: dict[Action, str] = {
    Action.LOGIN: "Logged in",
    Action.LOGIN_FAILED: "Failed login",
    Action.LOGOUT: "Logged out",
    Action.REGISTER: "Account created",
    Action.REGISTER_FAILED: "Sign-up with an address in use",
    Action.PASSWORD_CHANGED: "Password changed",
    Action.PASSWORD_RESET_REQUESTED: "Password reset link asked for",
    Action.PASSWORD_RESET: "Password reset with an emailed link",
    Action.EMAIL_VERIFICATION_SENT: "Link to verify the email address sent",
    Action.EMAIL_VERIFIED: "Email address verified",
    Action.TOKEN_CREATED: "API token created",
    Action.TOKEN_USED: "API token used to upload",
    Action.TOKEN_REVOKED: "API token revoked",
    Action.TWO_FACTOR_ENABLED: "Two-factor login turned on",
    Action.TWO_FACTOR_DISABLED: "Two-factor login turned off",
    Action.TWO_FACTOR_FAILED: "Wrong two-factor code",
    Action.RECOVERY_CODE_USED: "Recovery code used",
    Action.RECOVERY_CODES_REPLACED: "New recovery codes made",
    Action.UPLOAD: "File uploaded",
    Action.YANK: "Release yanked",
    Action.UNYANK: "Release no longer yanked",
    Action.REMOVE_FILE: "File deleted",
    Action.REMOVE_RELEASE: "Release deleted",
    Action.RETENTION_SET: "Retention rule set",
    Action.RETENTION_CLEARED: "Retention rule cleared",
    Action.ADD_MAINTAINER: "Maintainer added",
    Action.REMOVE_MAINTAINER: "Maintainer removed",
    Action.CHANGE_ROLE: "Maintainer's role changed",
    Action.REQUIRE_2FA_ON: "Two-factor login required for uploads",
    Action.REQUIRE_2FA_OFF: "Two-factor login no longer required for uploads",
    Action.VISIBILITY_CHANGED: "Visibility changed",
    Action.PROJECT_STATUS_CHANGED: "Project status changed",
    Action.SITE_READ_ONLY_ON: "Site put in read-only mode",
    Action.SITE_READ_ONLY_OFF: "Site out of read-only mode",
    Action.SITE_REGISTRATION_OPENED: "Registration opened",
    Action.SITE_REGISTRATION_CLOSED: "Registration closed",
    Action.SITE_REQUIRE_2FA_ON: "Two-factor login required of every uploader",
    Action.SITE_REQUIRE_2FA_OFF: "Two-factor login no longer required of every uploader",
    Action.NAME_PROHIBITED: "Project name prohibited",
    Action.NAME_ALLOWED: "Project name allowed again",
    Action.ACCOUNT_DEACTIVATED: "Account deactivated by an admin",
    Action.ACCOUNT_REACTIVATED: "Account reactivated by an admin",
    Action.TWO_FACTOR_RESET: "Two-factor login reset by an admin",
    Action.ADMIN_GRANTED: "Made a site admin",
    Action.ADMIN_REVOKED: "No longer a site admin",
    Action.ACCOUNT_REMOVED: "Account removed by an admin",
    Action.OWNERSHIP_TRANSFERRED: "Ownership transferred by an admin",
    Action.PROJECT_REMOVED: "Project deleted by an admin",
    Action.TEAM_CREATED: "Team created",
    Action.TEAM_MEMBER_ADDED: "Team member added",
    Action.TEAM_MEMBER_REMOVED: "Team member removed",
    Action.TEAM_ROLE_GRANTED: "Role granted to a team",
    Action.TEAM_ROLE_REVOKED: "Team's role revoked",
    Action.PUBLISHER_ADDED: "Trusted publisher added",
    Action.PUBLISHER_REMOVED: "Trusted publisher removed",
    Action.PUBLISHER_TOKEN_MINTED: "Upload token minted for a trusted publisher",
}


def describe(action: str) -> str:
    """The wording for a stored action; a value no longer in ``Action`` shows as stored."""
    try:
        return WORDING[Action(action)]
    except ValueError:
        return action


@dataclass(frozen=True)
class Origin:
    """Where a request came from; the web and API layers fill it in, the CLI leaves it empty."""

    ip_address: str | None = None
    user_agent: str | None = None


_MAX_USER_AGENT = 512


def record(
    db: Session,
    action: Action,
    *,
    origin: Origin = Origin(),
    user_id: int | None = None,
    package_id: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        action=action.value,
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
