"""The index's running totals (kept by triggers, migration 0005) against a real count."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services.analytics import project_sizes
from wheelyard.services.analytics.project_sizes import ProjectSize
from wheelyard.services.projects import packages


def counted_totals(db: Session) -> tuple[packages.IndexCounts, int, list[ProjectSize]]:
    """What the totals should say, counted the slow way over every row."""

    def count(model: type[object]) -> int:
        return db.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    size = sa.func.sum(ReleaseFile.size).label("size")
    biggest = db.execute(
        sa.select(Release.package_id, Package.name, size)
        .join(ReleaseFile, ReleaseFile.release_id == Release.id)
        .join(Package, Package.id == Release.package_id)
        .group_by(Release.package_id, Package.name)
        .having(size > 0)
        .order_by(size.desc(), Release.package_id)
    ).all()
    return (
        packages.IndexCounts(count(Package), count(Release), count(ReleaseFile), count(User)),
        int(db.scalar(sa.select(sa.func.sum(ReleaseFile.size))) or 0),
        [ProjectSize(package_id, name, int(n)) for package_id, name, n in biggest],
    )


def assert_totals_exact(db: Session) -> None:
    """The counts, the total size and the biggest projects all agree with a count."""
    expected_counts, expected_size, expected_biggest = counted_totals(db)
    assert packages.index_counts(db) == expected_counts
    assert project_sizes.total_size(db) == expected_size
    assert project_sizes.top_by_size(db, limit=100) == expected_biggest
