"""Migration 0021: the retention rules table comes and goes; the triggers stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tests.helpers.migrations import sqlite_triggers
from wheelyard.services.ops import schema


def test_down_and_up_again(connection: sa.Connection) -> None:
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0021-1")
    assert "retention_rules" not in sa.inspect(connection).get_table_names()
    assert sqlite_triggers(connection) == before

    command.upgrade(config, "head")

    inspector = sa.inspect(connection)
    assert "retention_rules" in inspector.get_table_names()
    columns = {column["name"]: column for column in inspector.get_columns("retention_rules")}
    assert set(columns) == {"id", "created_date", "project_id", "days", "keep"}
    assert columns["project_id"]["nullable"]
    assert sqlite_triggers(connection) == before
