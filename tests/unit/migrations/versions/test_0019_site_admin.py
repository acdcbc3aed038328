"""Migration 0019: projects start active; the tables come and go; the triggers survive."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tests.helpers.migrations import sqlite_triggers
from wheelyard.services.ops import schema


def test_existing_projects_are_active_and_the_walk_keeps_the_triggers(
    connection: sa.Connection,
) -> None:
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0019-1")
    tables = set(sa.inspect(connection).get_table_names())
    assert not {"site_flags", "prohibited_names"} & tables
    assert "status" not in _columns(connection)
    connection.execute(
        sa.text(
            "INSERT INTO packages (id, name, summary, ultranormalized) "
            "VALUES ('oldie', 'oldie', 'x', '01d1e')"
        )
    )

    command.upgrade(config, "head")

    assert sqlite_triggers(connection) == before
    row = connection.execute(
        sa.text("SELECT status, status_reason FROM packages WHERE id = 'oldie'")
    ).one()
    assert tuple(row) == ("active", None)
    connection.execute(sa.text("INSERT INTO site_flags (name, value) VALUES ('x', 'y')"))
    connection.execute(
        sa.text("INSERT INTO prohibited_names (id, name, reason) VALUES ('a', 'A', 'r')")
    )


def _columns(connection: sa.Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns("packages")}
