"""Migration 0020: the trusted publishing tables come and go; the triggers stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tests.helpers.migrations import sqlite_triggers
from wheelyard.services.ops import schema

TABLES = {"trusted_publishers", "publisher_tokens", "oidc_used_tokens"}


def test_down_and_up_again(connection: sa.Connection) -> None:
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0020-1")
    inspector = sa.inspect(connection)
    assert not TABLES & set(inspector.get_table_names())
    assert "published_from" not in {c["name"] for c in inspector.get_columns("release_files")}
    assert sqlite_triggers(connection) == before

    command.upgrade(config, "head")

    inspector = sa.inspect(connection)
    assert set(inspector.get_table_names()) >= TABLES
    assert "published_from" in {c["name"] for c in inspector.get_columns("release_files")}
    assert sqlite_triggers(connection) == before
