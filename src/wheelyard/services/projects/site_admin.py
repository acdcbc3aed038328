"""What a site admin does to any project: find, transfer ownership, delete.

(Quarantine is a PEP 792 status: services/projects/status.py.) Each change is journalled,
so caches and mirrors follow, and audited with the admin as actor (None: the command line).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services import audit, journal
from wheelyard.services.audit import Origin
from wheelyard.services.projects.admin import blob_paths
from wheelyard.services.projects.packages import find_package

SEARCH_LIMIT = 50
MAX_QUERY_LENGTH = 200


class SiteProjectError(ValueError):
    """A change that cannot be made as asked; the message is for the admin."""


def search(db: Session, query: str, limit: int = SEARCH_LIMIT) -> list[Package]:
    """Projects whose name contains ``query`` (every project when empty), by name."""
    statement = sa.select(Package).order_by(Package.id).limit(limit)
    query = query.strip()[:MAX_QUERY_LENGTH]
    if query:
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Package.id.like(f"%{escaped}%", escape="\\"))
    return list(db.scalars(statement))


def project(db: Session, name: str) -> Package:
    package = find_package(db, name.strip())
    if package is None:
        raise SiteProjectError(f"There is no project named {name.strip()!r}.")
    return package


def transfer(
    db: Session, package: Package, new_owner: User, *, actor_id: int | None, origin: Origin
) -> list[str]:
    """Make ``new_owner`` the project's one owner; the owners before lose their role (their
    maintainers stay). Returns the addresses of the owners before."""
    if not new_owner.is_active:
        raise SiteProjectError(f"{new_owner.email} is deactivated; reactivate the account first.")
    links = list(db.scalars(sa.select(Maintainer).where(Maintainer.package_id == package.id)))
    before = sorted(link.user.email for link in links if link.role == Role.OWNER)
    if before == [new_owner.email]:
        raise SiteProjectError(f"{new_owner.email} already is the only owner of {package.name}.")
    for link in links:
        if link.role == Role.OWNER and link.user_id != new_owner.id:
            db.delete(link)
    mine = next((link for link in links if link.user_id == new_owner.id), None)
    if mine is None:
        db.add(Maintainer(user_id=new_owner.id, package_id=package.id, role=Role.OWNER))
    else:
        mine.role = Role.OWNER
    db.flush()
    journal.record(db, package, journal.Action.TRANSFER_OWNERSHIP, user_id=actor_id)
    audit.record(
        db,
        audit.Action.OWNERSHIP_TRANSFERRED,
        origin=origin,
        user_id=actor_id,
        package_id=package.id,
        detail=f"to {new_owner.email} from {', '.join(before) or 'nobody'}",
    )
    return before


def delete(db: Session, package: Package, *, actor_id: int | None, origin: Origin) -> list[str]:
    """Delete the project with every release and file; returns the blobs to remove once the
    transaction commits. Its filenames stay registered, so none is ever reused."""
    files = list(
        db.scalars(
            sa.select(ReleaseFile).where(
                ReleaseFile.release_id.in_([release.id for release in package.releases])
            )
        )
    )
    paths = [path for release_file in files for path in blob_paths(release_file)]
    names = [release_file.filename for release_file in files]
    if names:
        known = set(
            db.scalars(sa.select(FileRegistry.filename).where(FileRegistry.filename.in_(names)))
        )
        db.add_all(FileRegistry(filename=name) for name in names if name not in known)
    journal.record(db, package, journal.Action.REMOVE_PROJECT, user_id=actor_id)
    audit.record(
        db,
        audit.Action.PROJECT_REMOVED,
        origin=origin,
        user_id=actor_id,
        detail=f"{package.name}: {len(package.releases)} release(s), {len(files)} file(s)",
    )
    db.delete(package)
    db.flush()
    return paths
