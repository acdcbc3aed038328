"""An INSERT that can say what to do on a conflict, in the dialect of the session's database.

Both databases we run on spell ``ON CONFLICT`` the same way; SQLAlchemy keeps the construct
per dialect, so the one matching the bind is picked here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wheelyard.data.modelbase import SqlAlchemyBase


def dialect_insert(db: Session, table: sa.Table | type[SqlAlchemyBase]) -> Any:
    """An ``insert(table)`` that has ``on_conflict_do_update`` and ``on_conflict_do_nothing``."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {dialect}")  # pragma: no cover - not ours
