"""Migration 0016: every existing project gets its ultranormalized name, indexed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from tests.helpers.migrations import sqlite_triggers
from wheelyard.services.ops import schema


def test_existing_projects_are_filled_in_and_the_column_goes_on_downgrade(
    connection: sa.Connection,
) -> None:
    # All inside the test's transaction, which is rolled back: DDL is transactional on both.
    config = schema.alembic_config(connection)
    command.downgrade(config, "0016-1")
    assert "ultranormalized" not in _columns(connection)
    connection.execute(
        sa.text("INSERT INTO packages (id, name) VALUES ('fla-sk-io', 'Fla_Sk.IO'), ('x', 'x')")
    )

    command.upgrade(config, "head")

    rows = connection.execute(sa.text("SELECT id, ultranormalized FROM packages ORDER BY id"))
    assert rows.all() == [("fla-sk-io", "f1ask10"), ("x", "x")]
    indexes = {index["name"] for index in sa.inspect(connection).get_indexes("packages")}
    assert "ix_packages_ultranormalized" in indexes


def _columns(connection: sa.Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns("packages")}


def test_sealed_secrets_fit_and_a_downgrade_would_not_drop_them(connection: sa.Connection) -> None:
    columns = {c["name"]: c["type"] for c in sa.inspect(connection).get_columns("users")}
    assert getattr(columns["totp_secret"], "length", None) == 255
    connection.execute(
        sa.text(
            "INSERT INTO users (name, email, is_active, is_admin, totp_secret) "
            "VALUES ('Ada', 'ada@example.com', true, false, :sealed)"
        ),
        {"sealed": "fernet:" + "x" * 140},
    )
    with pytest.raises(RuntimeError, match="turn two-factor login off"):
        command.downgrade(schema.alembic_config(connection), "0016-1")


def test_down_and_up_again_keep_the_triggers_and_the_search_index(
    connection: sa.Connection,
) -> None:
    # On SQLite the search index (0003) and the running counts (0005) are triggers on these
    # tables; a table copied to change a column would lose them.
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0016-1")
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
        found = connection.execute(
            sa.text("SELECT count(*) FROM packages_fts WHERE packages_fts MATCH 'findme'")
        )
        assert found.scalar() == 1
