"""db_copy's list of the tables the migrations fill must stay true as migrations come."""

from __future__ import annotations

import sqlalchemy as sa

from wheelyard.data.db_session import create_engine
from wheelyard.services.ops import db_copy, schema


def test_the_seeded_tables_are_those_a_fresh_migration_fills(empty_database: str) -> None:
    engine = create_engine(empty_database)
    try:
        schema.upgrade(engine)
        with engine.connect() as connection:
            filled = {
                table.name
                for table in db_copy.tables()
                if connection.scalar(sa.select(sa.func.count()).select_from(table))
            }
            assert db_copy.why_not_empty(connection) is None
    finally:
        engine.dispose()
    # A table a new migration fills but db_copy does not replace would fail every copy
    # with a duplicate key.
    assert filled == db_copy.SEEDED_BY_MIGRATIONS
