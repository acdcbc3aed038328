"""Project names no upload may create, each with the reason the refusal gives.

An existing project of that name is left alone: prohibiting a name stops its creation
(a name squatted on, a trademark, an internal name that must never come from outside).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.prohibited_name import ProhibitedName
from wheelyard.services import audit
from wheelyard.services.audit import Origin
from wheelyard.services.naming import is_valid_project_name, normalize_name

MAX_REASON_LENGTH = 1000


class ProhibitedNameError(ValueError):
    """A name that cannot be prohibited or allowed as asked; the message is for the admin."""


def all_names(db: Session) -> list[ProhibitedName]:
    return list(db.scalars(sa.select(ProhibitedName).order_by(ProhibitedName.id)))


def find(db: Session, name: str) -> ProhibitedName | None:
    """The entry that forbids creating ``name``, if any."""
    return db.get(ProhibitedName, normalize_name(name))


def refusal(entry: ProhibitedName) -> str:
    return f"The name {entry.name!r} isn't allowed on this index: {entry.reason}"


def prohibit(
    db: Session, name: str, reason: str, *, actor_id: int | None, origin: Origin
) -> ProhibitedName:
    name, reason = name.strip(), reason.strip()
    if not is_valid_project_name(name):
        raise ProhibitedNameError(f"{name!r} is not a valid project name.")
    if not reason:
        raise ProhibitedNameError("Say why the name is prohibited: uploaders are told.")
    if len(reason) > MAX_REASON_LENGTH:
        raise ProhibitedNameError(f"The reason is longer than {MAX_REASON_LENGTH} characters.")
    if find(db, name) is not None:
        raise ProhibitedNameError(f"The name {name!r} is already prohibited.")
    entry = ProhibitedName(id=normalize_name(name), name=name, reason=reason)
    db.add(entry)
    db.flush()
    audit.record(
        db,
        audit.Action.NAME_PROHIBITED,
        origin=origin,
        user_id=actor_id,
        detail=f"{name}: {reason}",
    )
    return entry


def allow(db: Session, name: str, *, actor_id: int | None, origin: Origin) -> None:
    entry = find(db, name.strip()) if is_valid_project_name(name.strip()) else None
    if entry is None:
        raise ProhibitedNameError(f"The name {name.strip()!r} is not prohibited.")
    db.delete(entry)
    db.flush()
    audit.record(db, audit.Action.NAME_ALLOWED, origin=origin, user_id=actor_id, detail=entry.name)
