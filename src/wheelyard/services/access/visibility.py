"""Whether a reader may see a project: public projects to everyone, private ones only to
those with a role on it (roles.py), and never to a token restricted to another project.

Everything that lists or shows projects asks here: the per-project checks (``may_read``)
and, for lists, the private projects a reader may see (``private_ids_for``) or may not
(``hidden_from``), or only the public ones (``public_only``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package, Visibility
from wheelyard.services.access import roles


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks: an account, and the one project its token is limited to, if any."""

    user_id: int
    only_package: str | None = None

    def may_hold(self, package_id: str) -> bool:
        return self.only_package is None or self.only_package == package_id


def visibility_of(db: Session, package_id: str) -> Visibility | None:
    """The project's visibility; None when there is no such project."""
    found = db.scalar(sa.select(Package.visibility).where(Package.id == package_id))
    return Visibility(found) if found is not None else None


def may_read(db: Session, reader: Reader | None, package_id: str) -> bool:
    """Whether ``reader`` (None: anonymous) may see the project; False when there is none."""
    found = visibility_of(db, package_id)
    if found is None:
        return False
    return found == Visibility.PUBLIC or may_read_private(db, reader, package_id)


def may_read_private(db: Session, reader: Reader | None, package_id: str) -> bool:
    if reader is None or not reader.may_hold(package_id):
        return False
    return roles.effective_role(db, reader.user_id, package_id) is not None


def private_ids_for(db: Session, reader: Reader | None) -> frozenset[str]:
    """The private projects ``reader`` may see; empty for anonymous readers."""
    if reader is None:
        return frozenset()
    ids = roles.readable_private_ids(db, reader.user_id)
    if reader.only_package is not None:
        ids = ids & {reader.only_package}
    return ids


def hidden_from(db: Session, reader: Reader | None) -> frozenset[str]:
    """The private projects ``reader`` may not see: every private one but theirs (a short
    list on an indexed column, whatever the size of the index)."""
    query = sa.select(Package.id).where(Package.visibility == Visibility.PRIVATE)
    return frozenset(db.scalars(query)) - private_ids_for(db, reader)


def public_only() -> sa.ColumnElement[bool]:
    """For queries on packages itself: the public projects."""
    return Package.visibility == Visibility.PUBLIC
