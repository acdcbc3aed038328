"""PEP 792 project status: active, archived, deprecated (owners), quarantined (site admins).

A change is journalled, so every worker drops the project's cached simple pages, JSON
documents, list chunk and files (services/index/page_cache.py), as a yank does; and it is
audited with its reason.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from wheelyard.data.package import Package, ProjectStatus
from wheelyard.data.user import User
from wheelyard.services import audit, journal
from wheelyard.services.audit import Origin

MAX_REASON_LENGTH = 1000
# What owners may choose on the manage page; quarantine is the site admins' alone.
OWNER_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED, ProjectStatus.DEPRECATED)


class StatusError(ValueError):
    """A status that cannot be set as asked; the message is for the user."""


def parse(text: str) -> ProjectStatus:
    try:
        return ProjectStatus(text.strip().lower())
    except ValueError:
        names = ", ".join(status.value for status in ProjectStatus)
        raise StatusError(f"Choose a status: {names}.") from None


def set_status(
    db: Session,
    package: Package,
    status: ProjectStatus,
    reason: str = "",
    *,
    actor: User | None,
    origin: Origin,
) -> bool:
    """Give ``package`` the status; False when it already had it with that reason.

    ``actor`` None is the operator at the command line, who may do anything; an account
    that is not a site admin may neither quarantine a project nor lift a quarantine.
    """
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise StatusError(f"The reason is longer than {MAX_REASON_LENGTH} characters.")
    admin = actor is None or actor.is_admin
    if not admin and ProjectStatus.QUARANTINED in (status, package.status):
        raise StatusError("Only the site admins quarantine a project or lift a quarantine.")
    new_reason = reason or None
    if package.status == status and package.status_reason == new_reason:
        return False
    package.status = status
    package.status_reason = new_reason
    user_id = actor.id if actor is not None else None
    journal.record(db, package, journal.Action.CHANGE_STATUS, user_id=user_id)
    audit.record(
        db,
        audit.Action.PROJECT_STATUS_CHANGED,
        origin=origin,
        user_id=user_id,
        package_id=package.id,
        detail=f"{status.value}: {reason}" if reason else status.value,
    )
    return True


def upload_refusal(package: Package) -> str | None:
    """Why no file may be added to ``package`` now (PEP 792), or None when it may."""
    if package.status is ProjectStatus.ARCHIVED:
        why = f": {package.status_reason}" if package.status_reason else "."
        return f"Project {package.name!r} is archived and takes no new files{why}"
    if package.status is ProjectStatus.QUARANTINED:
        return f"Project {package.name!r} is quarantined by the site admins and takes no files."
    return None
