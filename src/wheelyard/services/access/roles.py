"""Who holds which role on a project: the one rule every read of a private project asks.

Today a role comes from the maintainers table (Owner, Maintainer). Everything that decides
whether someone may see a private project goes through these two functions, so a new way
to hold a role (a Reader role, a team's grant) is added here and nowhere else.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, Visibility


def effective_role(db: Session, user_id: int, package_id: str) -> Role | None:
    """The role ``user_id`` holds on the project, or None."""
    link = db.get(Maintainer, (user_id, package_id))
    return link.role if link is not None else None


def readable_private_ids(db: Session, user_id: int) -> frozenset[str]:
    """The private projects ``user_id`` holds a role on (a handful, not the whole index)."""
    query = (
        sa.select(Package.id)
        .join(Maintainer, Maintainer.package_id == Package.id)
        .where(Maintainer.user_id == user_id, Package.visibility == Visibility.PRIVATE)
    )
    return frozenset(db.scalars(query))
