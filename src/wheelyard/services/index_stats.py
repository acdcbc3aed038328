"""Index-wide figures for the /stats/ page: the biggest projects and the total size."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile


class ProjectSize(NamedTuple):
    package_id: str
    name: str
    size: int


def total_size(db: Session) -> int:
    """Bytes of every file the index lists."""
    return int(db.scalar(sa.select(sa.func.sum(ReleaseFile.size))) or 0)


def top_by_size(db: Session, limit: int = 10) -> list[ProjectSize]:
    """The projects whose files take the most space, biggest first."""
    size = sa.func.sum(ReleaseFile.size).label("size")
    query = (
        sa.select(Release.package_id, Package.name, size)
        .join(ReleaseFile, ReleaseFile.release_id == Release.id)
        .join(Package, Package.id == Release.package_id)
        .group_by(Release.package_id, Package.name)
        .order_by(size.desc(), Release.package_id)
        .limit(limit)
    )
    return [ProjectSize(package_id, name, int(n)) for package_id, name, n in db.execute(query)]
