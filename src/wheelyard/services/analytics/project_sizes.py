"""Index-wide figures for the /stats/ page: the biggest projects and the total size.

Both come from the totals the database keeps as files come and go (migration 0005), so the
page costs a few index reads however many files the index holds.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.index_count import IndexCount
from wheelyard.data.package import Package, Visibility
from wheelyard.data.package_size import PackageSize


class ProjectSize(NamedTuple):
    package_id: str
    name: str
    size: int


def total_size(db: Session) -> int:
    """Bytes of every file the index lists."""
    return int(db.scalar(sa.select(sa.func.sum(IndexCount.total_size))) or 0)


def top_by_size(db: Session, limit: int = 10) -> list[ProjectSize]:
    """The projects whose files take the most space, biggest first (projects with files only)."""
    query = (
        sa.select(PackageSize.package_id, Package.name, PackageSize.size)
        .join(Package, Package.id == PackageSize.package_id)
        .where(PackageSize.size > 0, Package.visibility == Visibility.PUBLIC)
        .order_by(PackageSize.size.desc(), PackageSize.package_id)
        .limit(limit)
    )
    return [ProjectSize(package_id, name, int(n)) for package_id, name, n in db.execute(query)]
