"""search reads READMEs without their links

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 19:45:00

``packages.search_text`` holds the README as the full-text index reads it: links dropped
(``wheelyard.data.package.search_text_of``), so that "http", "github" or "pypi" no longer
match nearly every project through the URLs of its README. The models fill it with the
description; this migration fills it for the projects already there, in batches.

SQLite: ``packages_fts`` is rebuilt over (name, summary, keywords, search_text), and the
triggers of 0003 that feed it are recreated to read ``search_text``. ``packages`` itself only
gains a column (ADD COLUMN, never a copy of the table: its triggers stay).

PostgreSQL: the generated ``search_vector`` is recreated to read ``search_text`` for its
weight C part, with its GIN index.

Both get an index of the name, summary and keywords alone (SQLite: ``packages_metadata_fts``,
external content, fed by the same triggers; PostgreSQL: the generated ``search_metadata``
with a GIN index): search ranks those matches above README matches and looks them up on
their own, and a lookup for a word that fills READMEs but few summaries ("install") must not
read every README entry to find them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

from wheelyard.data.package import search_text_of

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
# The column the index reads the README from: before this revision and after it.
Readme = Literal["description", "search_text"]


def _sqlite_index(readme: Readme, metadata: bool) -> list[str]:
    """The FTS5 table and its triggers of 0003, reading the README from ``readme``, and with
    ``metadata`` the table of the name, summary and keywords alone, kept by the same triggers."""
    # ``readme`` is one of two column names (Readme), never input.
    insert_metadata = delete_metadata = ""
    statements = [
        f"""
        CREATE VIRTUAL TABLE packages_fts USING fts5(
            name, summary, keywords, {readme},
            content='packages', content_rowid='rowid',
            tokenize='porter unicode61 remove_diacritics 2'
        )
        """
    ]
    if metadata:
        statements.append(
            """
            CREATE VIRTUAL TABLE packages_metadata_fts USING fts5(
                name, summary, keywords,
                content='packages', content_rowid='rowid',
                tokenize='porter unicode61 remove_diacritics 2'
            )
            """
        )
        insert_metadata = """
            INSERT INTO packages_metadata_fts (rowid, name, summary, keywords)
            VALUES (new.rowid, new.name, new.summary, new.keywords);"""
        delete_metadata = """
            INSERT INTO packages_metadata_fts (packages_metadata_fts, rowid, name, summary, keywords)
            VALUES ('delete', old.rowid, old.name, old.summary, old.keywords);"""
    statements += [
        f"""
        CREATE TRIGGER packages_search_insert AFTER INSERT ON packages BEGIN
            INSERT INTO packages_fts (rowid, name, summary, keywords, {readme})
            VALUES (new.rowid, new.name, new.summary, new.keywords, new.{readme});
            INSERT INTO packages_name_fts (rowid, id) VALUES (new.rowid, new.id);{insert_metadata}
        END
        """,  # noqa: S608 - readme is a column name (Readme)
        f"""
        CREATE TRIGGER packages_search_delete AFTER DELETE ON packages BEGIN
            INSERT INTO packages_fts (packages_fts, rowid, name, summary, keywords, {readme})
            VALUES ('delete', old.rowid, old.name, old.summary, old.keywords, old.{readme});
            INSERT INTO packages_name_fts (packages_name_fts, rowid, id)
            VALUES ('delete', old.rowid, old.id);{delete_metadata}
        END
        """,  # noqa: S608 - readme is a column name (Readme)
        # A README change re-indexes the metadata too: the same words, a few bytes.
        f"""
        CREATE TRIGGER packages_search_update_text
        AFTER UPDATE OF name, summary, keywords, {readme} ON packages BEGIN
            INSERT INTO packages_fts (packages_fts, rowid, name, summary, keywords, {readme})
            VALUES ('delete', old.rowid, old.name, old.summary, old.keywords, old.{readme});
            INSERT INTO packages_fts (rowid, name, summary, keywords, {readme})
            VALUES (new.rowid, new.name, new.summary, new.keywords, new.{readme});{delete_metadata}{insert_metadata}
        END
        """,  # noqa: S608 - readme is a column name (Readme)
        "INSERT INTO packages_fts (packages_fts) VALUES ('rebuild')",
    ]
    if metadata:
        statements.append(
            "INSERT INTO packages_metadata_fts (packages_metadata_fts) VALUES ('rebuild')"
        )
    return statements


_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS packages_search_update_text",
    "DROP TRIGGER IF EXISTS packages_search_delete",
    "DROP TRIGGER IF EXISTS packages_search_insert",
    "DROP TABLE IF EXISTS packages_metadata_fts",
    "DROP TABLE IF EXISTS packages_fts",
]


def _postgres_vector(readme: Readme) -> str:
    return f"""
    ALTER TABLE packages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', regexp_replace(name, '[-_.]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english', coalesce(keywords, '')), 'B')
        || setweight(to_tsvector('english', left(coalesce({readme}, ''), 100000)), 'C')
    ) STORED
    """


# The name, summary and keywords alone, weighted as in search_vector: a lookup for a word
# common in READMEs but rare in summaries reads only the projects that have it there.
_POSTGRES_METADATA_VECTOR = """
    ALTER TABLE packages ADD COLUMN search_metadata tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', regexp_replace(name, '[-_.]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english', coalesce(keywords, '')), 'B')
    ) STORED
"""


def _rebuild(readme: Readme, metadata: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_DROP + _sqlite_index(readme, metadata):
            op.execute(statement)
        return
    op.execute("DROP INDEX IF EXISTS ix_packages_search_vector")
    op.execute("ALTER TABLE packages DROP COLUMN IF EXISTS search_vector")
    op.execute(_postgres_vector(readme))
    op.execute("CREATE INDEX ix_packages_search_vector ON packages USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_packages_search_metadata")
    op.execute("ALTER TABLE packages DROP COLUMN IF EXISTS search_metadata")
    if metadata:
        op.execute(_POSTGRES_METADATA_VECTOR)
        op.execute(
            "CREATE INDEX ix_packages_search_metadata ON packages USING gin (search_metadata)"
        )


def _fill_search_text() -> None:
    """Every README's search text, a batch of projects at a time in the order of their ids."""
    bind = op.get_bind()
    packages = sa.table(
        "packages", sa.column("id"), sa.column("description"), sa.column("search_text")
    )
    after = ""
    while True:
        rows = bind.execute(
            sa.select(packages.c.id, packages.c.description)
            .where(packages.c.id > after, packages.c.description.is_not(None))
            .order_by(packages.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            packages.update()
            .where(packages.c.id == sa.bindparam("key"))
            .values(search_text=sa.bindparam("text")),
            [{"key": key, "text": search_text_of(description)} for key, description in rows],
        )
        after = rows[-1][0]


def upgrade() -> None:
    op.add_column("packages", sa.Column("search_text", sa.Text(), nullable=True))
    _fill_search_text()
    _rebuild("search_text", metadata=True)


def downgrade() -> None:
    _rebuild("description", metadata=False)
    op.drop_column("packages", "search_text")
