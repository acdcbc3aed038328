"""What migration tests compare before and after a walk down and up again."""

from __future__ import annotations

import sqlalchemy as sa


def sqlite_triggers(connection: sa.Connection) -> set[str]:
    """The names of the database's triggers on SQLite (the search index's and the counts');
    empty on PostgreSQL, which keeps them in functions a table change never drops."""
    if connection.dialect.name != "sqlite":
        return set()
    query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return set(connection.exec_driver_sql(query).scalars())
