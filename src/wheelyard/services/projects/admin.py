"""What an owner does to a project's releases: yank, un-yank, delete a file or a release.

Each change writes a journal entry (the index's caches invalidate by it) and an audit row.
Deletions return the storage paths to remove: the caller deletes those blobs only after
its transaction commits, so a rollback never leaves a row pointing at a missing blob.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.package import Package, Visibility
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services import audit, journal
from wheelyard.services.audit import Origin
from wheelyard.services.projects.packages import find_release
from wheelyard.services.projects.release_files import metadata_path

MAX_YANK_REASON_LENGTH = 1000


class ProjectAdminError(ValueError):
    """A change that cannot be made as asked; the message is for the user."""


def release_of(package: Package, version: str) -> Release:
    release = find_release(package, version)
    if release is None:
        raise ProjectAdminError("This project has no such release.")
    return release


def file_of(package: Package, filename: str) -> ReleaseFile:
    for release in package.releases:
        for release_file in release.files:
            if release_file.filename == filename:
                return release_file
    raise ProjectAdminError("This project has no such file.")


def yank(
    db: Session, package: Package, version: str, reason: str, *, actor: User, origin: Origin
) -> None:
    release = release_of(package, version)
    reason = reason.strip()
    if len(reason) > MAX_YANK_REASON_LENGTH:
        raise ProjectAdminError(f"The reason is longer than {MAX_YANK_REASON_LENGTH} characters.")
    if release.yanked:
        raise ProjectAdminError(f"{version} is already yanked.")
    release.yanked = True
    release.yanked_reason = reason or None
    journal.record(db, package, journal.Action.YANK, version=version, user_id=actor.id)
    audit.record(
        db,
        audit.Action.YANK,
        origin=origin,
        user_id=actor.id,
        package_id=package.id,
        detail=f"{version}: {reason}" if reason else version,
    )


def unyank(db: Session, package: Package, version: str, *, actor: User, origin: Origin) -> None:
    release = release_of(package, version)
    if not release.yanked:
        raise ProjectAdminError(f"{version} is not yanked.")
    release.yanked = False
    release.yanked_reason = None
    journal.record(db, package, journal.Action.UNYANK, version=version, user_id=actor.id)
    audit.record(
        db,
        audit.Action.UNYANK,
        origin=origin,
        user_id=actor.id,
        package_id=package.id,
        detail=version,
    )


def blob_paths(release_file: ReleaseFile) -> list[str]:
    paths = [release_file.storage_path] if release_file.storage_path else []
    if release_file.metadata_sha256:
        try:
            metadata = metadata_path(release_file)
        except ValueError:
            # A digest that cannot name a blob (imported data): nothing of it was stored.
            metadata = None
        if metadata:
            paths.append(metadata)
    return paths


def _retire_names(db: Session, filenames: list[str]) -> None:
    """Make sure every name is in file_registry, so no upload can ever take it again.

    Uploads register their names, but imported files may never have been: without this,
    deleting one would free its name.
    """
    if not filenames:
        return
    known = set(
        db.scalars(sa.select(FileRegistry.filename).where(FileRegistry.filename.in_(filenames)))
    )
    db.add_all(FileRegistry(filename=name) for name in filenames if name not in known)


def remove_file(
    db: Session, package: Package, filename: str, *, actor: User, origin: Origin
) -> list[str]:
    """Delete one file's row; its name stays in file_registry, so it is never reused."""
    release_file = file_of(package, filename)
    release = release_file.release
    paths = blob_paths(release_file)
    _retire_names(db, [filename])
    release.files.remove(release_file)
    # The release's size is the sum of its files (uploads add to it).
    release.size = max((release.size or 0) - release_file.size, 0)
    db.flush()
    journal.record(
        db,
        package,
        journal.Action.REMOVE_FILE,
        version=release.version,
        filename=filename,
        user_id=actor.id,
    )
    audit.record(
        db,
        audit.Action.REMOVE_FILE,
        origin=origin,
        user_id=actor.id,
        package_id=package.id,
        detail=filename,
    )
    return paths


def remove_release(
    db: Session,
    package: Package,
    version: str,
    *,
    actor: User | None,
    origin: Origin,
    reason: str | None = None,
) -> list[str]:
    """Delete a release and all its files; their names stay in file_registry.

    ``actor`` is None when no account asked (``wheelyard cleanup`` applying a retention
    rule); ``reason`` then says why, in the audit row.
    """
    release = release_of(package, version)
    paths = [path for release_file in release.files for path in blob_paths(release_file)]
    _retire_names(db, [release_file.filename for release_file in release.files])
    package.releases.remove(release)
    db.flush()
    user_id = actor.id if actor is not None else None
    journal.record(db, package, journal.Action.REMOVE_RELEASE, version=version, user_id=user_id)
    audit.record(
        db,
        audit.Action.REMOVE_RELEASE,
        origin=origin,
        user_id=user_id,
        package_id=package.id,
        detail=f"{version}: {reason}" if reason else version,
    )
    return paths


def set_visibility(
    db: Session,
    package: Package,
    visibility: Visibility,
    *,
    actor: User | None,
    origin: Origin,
) -> bool:
    """Make the project public or private; False when it already was. The journal entry
    drops its cached pages, list chunk and files everywhere, as any change does."""
    if package.visibility == visibility:
        return False
    package.visibility = visibility
    user_id = actor.id if actor is not None else None
    journal.record(db, package, journal.Action.CHANGE_VISIBILITY, user_id=user_id)
    audit.record(
        db,
        audit.Action.VISIBILITY_CHANGED,
        origin=origin,
        user_id=user_id,
        package_id=package.id,
        detail=visibility.value,
    )
    return True
