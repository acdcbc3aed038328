"""Adding to rollup rows: insert each row, or add its ``downloads`` to the row already there.

Every rollup table (daily counts and breakdowns, their months, the site's totals, the 30-day
sums) is kept this way, by one upsert per table and batch, whose conflict target is the
table's primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.upsert import dialect_insert


def add_downloads(db: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` (each with ``downloads``) to ``table``."""
    if rows:
        db.execute(_adding(dialect_insert(db, table), table), rows)


def add_downloads_from(
    db: Session, table: sa.Table, columns: Sequence[str], select: sa.Select[Any]
) -> None:
    """Add the rows ``select`` yields, one value per name in ``columns``, to ``table``."""
    db.execute(_adding(dialect_insert(db, table).from_select(list(columns), select), table))


def _adding(insert: Any, table: sa.Table) -> Any:
    return insert.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={"downloads": table.c.downloads + insert.excluded.downloads},
    )
