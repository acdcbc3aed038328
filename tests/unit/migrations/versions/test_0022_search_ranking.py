"""Migration 0022: READMEs already stored are searched without their links; the triggers on
packages survive the walk down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tests.helpers.migrations import sqlite_triggers
from wheelyard.services.ops import schema

_README = "Talks sockets. Docs at https://example.org/manual and http://example.org/faq"


def _insert(connection: sa.Connection, name: str, description: str) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO packages (id, name, summary, description, ultranormalized) "
            "VALUES (:name, :name, 'x', :description, :name)"
        ),
        {"name": name, "description": description},
    )


def _link_word(connection: sa.Connection) -> str:
    """A word the README's links gave the index before 0022: SQLite splits URLs into words,
    PostgreSQL's parser keeps a URL's host as one."""
    return "manual" if connection.dialect.name == "sqlite" else "example.org"


def _found(connection: sa.Connection, word: str) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = (
            "SELECT p.id FROM packages_fts JOIN packages p ON p.rowid = packages_fts.rowid "
            "WHERE packages_fts MATCH :word"
        )
    else:
        query = "SELECT id FROM packages WHERE search_vector @@ plainto_tsquery('english', :word)"
    return set(connection.execute(sa.text(query), {"word": word}).scalars())


def test_existing_readmes_are_searched_without_their_links(connection: sa.Connection) -> None:
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0022-1")
    _insert(connection, "old", _README)
    assert _found(connection, _link_word(connection)) == {"old"}

    command.upgrade(config, "0022")

    assert sqlite_triggers(connection) == before
    stored = connection.execute(sa.text("SELECT search_text FROM packages WHERE id = 'old'"))
    assert stored.scalar() == "Talks sockets. Docs at   and  "
    assert _found(connection, "sockets") == {"old"}
    assert _found(connection, _link_word(connection)) == set()


def _found_in_metadata(connection: sa.Connection, word: str) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = (
            "SELECT p.id FROM packages_metadata_fts m JOIN packages p ON p.rowid = m.rowid "
            "WHERE packages_metadata_fts MATCH :word"
        )
    else:
        query = "SELECT id FROM packages WHERE search_metadata @@ plainto_tsquery('english', :word)"
    return set(connection.execute(sa.text(query), {"word": word}).scalars())


def test_the_metadata_index_holds_the_name_summary_and_keywords_only(
    connection: sa.Connection,
) -> None:
    config = schema.alembic_config(connection)
    command.downgrade(config, "0022-1")
    _insert(connection, "old-one", "sockets in the README")
    command.upgrade(config, "head")
    assert _found_in_metadata(connection, "old") == {"old-one"}
    assert _found_in_metadata(connection, "sockets") == set()

    connection.execute(
        sa.text(
            "UPDATE packages SET summary = 'Sockets', keywords = 'pooling' WHERE id = 'old-one'"
        )
    )
    assert _found_in_metadata(connection, "sockets") == {"old-one"}
    assert _found_in_metadata(connection, "pooling") == {"old-one"}
    connection.execute(sa.text("DELETE FROM packages WHERE id = 'old-one'"))
    assert _found_in_metadata(connection, "sockets") == set()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            "INSERT INTO packages_metadata_fts (packages_metadata_fts) VALUES ('integrity-check')"
        )


def test_the_index_follows_inserts_updates_and_deletes_after_it(
    connection: sa.Connection,
) -> None:
    _insert(connection, "new", "plain")
    connection.execute(
        sa.text("UPDATE packages SET search_text = 'sockets', summary = 'y' WHERE id = 'new'")
    )
    assert _found(connection, "sockets") == {"new"}
    assert _found(connection, "plain") == set()
    connection.execute(sa.text("DELETE FROM packages WHERE id = 'new'"))
    assert _found(connection, "sockets") == set()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            "INSERT INTO packages_fts (packages_fts) VALUES ('integrity-check')"
        )


def test_down_again_restores_the_readme_index(connection: sa.Connection) -> None:
    before = sqlite_triggers(connection)
    config = schema.alembic_config(connection)
    command.downgrade(config, "0022-1")
    assert sqlite_triggers(connection) == before
    _insert(connection, "down", _README)
    assert _found(connection, _link_word(connection)) == {"down"}
    command.upgrade(config, "head")
    assert _found(connection, _link_word(connection)) == set()
    assert _found(connection, "sockets") == {"down"}
