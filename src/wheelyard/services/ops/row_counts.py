"""Row counts of every table, for the importer's summary and for operators."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data import __all_models  # noqa: F401 - registers every table
from wheelyard.data.modelbase import SqlAlchemyBase


def row_counts(db: Session) -> dict[str, int]:
    counts = {}
    for table in SqlAlchemyBase.metadata.sorted_tables:
        counts[table.name] = db.scalar(sa.select(sa.func.count()).select_from(table)) or 0
    return dict(sorted(counts.items()))
