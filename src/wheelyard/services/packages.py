"""Reading packages and releases for pages: lookups, home page figures, newest releases."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services.naming import normalize_name


@dataclass(frozen=True)
class IndexCounts:
    projects: int
    releases: int
    files: int
    users: int


def index_counts(db: Session) -> IndexCounts:
    def count(model: type[object]) -> int:
        return db.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    return IndexCounts(
        projects=count(Package),
        releases=count(Release),
        files=count(ReleaseFile),
        users=count(User),
    )


def newest_releases(db: Session, limit: int = 10) -> list[Release]:
    """The most recently created releases, each with its package loaded for the summary."""
    query = (
        sa.select(Release)
        .options(selectinload(Release.package))
        .order_by(Release.created_date.desc(), Release.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def find_package(db: Session, name: str) -> Package | None:
    """The package a name means, by its normalized form."""
    return db.get(Package, normalize_name(name))


def latest_release(package: Package) -> Release | None:
    """The highest non-yanked final release; failing that, the highest non-yanked one.

    ``package.releases`` is newest first in PEP 440 order, so the first match wins.
    """
    candidates = [release for release in package.releases if not release.yanked]
    finals = [release for release in candidates if not release.is_prerelease]
    if finals:
        return finals[0]
    return candidates[0] if candidates else None


def find_release(package: Package, version: str) -> Release | None:
    for release in package.releases:
        if release.version == version:
            return release
    return None
