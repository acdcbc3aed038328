"""Migration 0017: existing accounts are verified; the triggers on users survive."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tests.helpers.migrations import sqlite_triggers
from wheelyard.services.ops import schema


def test_existing_accounts_are_verified_and_new_rows_are_not(connection: sa.Connection) -> None:
    # All inside the test's transaction, which is rolled back: DDL is transactional on both.
    config = schema.alembic_config(connection)
    command.downgrade(config, "0017-1")
    assert "email_verified" not in _columns(connection)
    connection.execute(
        sa.text(
            "INSERT INTO users (name, email, is_active, is_admin) "
            "VALUES ('Ada', 'ada@example.com', true, false)"
        )
    )

    command.upgrade(config, "head")

    assert _verified(connection, "ada@example.com") is True
    connection.execute(
        sa.text(
            "INSERT INTO users (name, email, is_active, is_admin) "
            "VALUES ('Bob', 'bob@example.com', true, false)"
        )
    )
    assert _verified(connection, "bob@example.com") is False


def test_down_and_up_again_keep_the_triggers_and_the_search_index(
    connection: sa.Connection,
) -> None:
    # On SQLite the search index (0003) and the running counts (0005) are triggers on users
    # and packages; a table copied to change a column would lose them (on users: the account count).
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0017-1")
    assert sqlite_triggers(connection) == before
    command.upgrade(config, "head")
    assert sqlite_triggers(connection) == before
    connection.execute(
        # ultranormalized has no default on PostgreSQL once 0016 is done (the models set it).
        sa.text(
            "INSERT INTO packages (id, name, summary, ultranormalized) "
            "VALUES ('findme', 'findme', 'x', 'findme')"
        )
    )
    if connection.dialect.name == "sqlite":
        assert {"users_count_insert", "users_count_delete"} <= before
        found = connection.execute(
            sa.text("SELECT count(*) FROM packages_fts WHERE packages_fts MATCH 'findme'")
        )
        assert found.scalar() == 1


def _columns(connection: sa.Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns("users")}


def _verified(connection: sa.Connection, email: str) -> bool:
    query = sa.text("SELECT email_verified FROM users WHERE email = :email")
    return bool(connection.execute(query, {"email": email}).scalar_one())
