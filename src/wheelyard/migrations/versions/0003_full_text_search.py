"""full-text search over projects

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 07:15:00

SQLite gets two FTS5 tables over ``packages``, kept in step by triggers: ``packages_fts``
(name, summary, keywords, description: words, Porter-stemmed) and ``packages_name_fts``
(the normalized name in trigrams, for "name contains"). Both are external-content tables keyed
by the packages rowid, so no text is stored twice. That rowid is stable: VACUUM renumbers only
tables without any index, and the TEXT primary key gives packages one.

PostgreSQL gets a stored generated tsvector column with a GIN index and, when the pg_trgm
extension can be had, a trigram index on the normalized name.

None of these are models; services.ops.schema keeps autogenerate away from them.
``package_classifiers`` is an ordinary model table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

_SQLITE_UPGRADE = [
    # remove_diacritics 2 folds "café" to "cafe"; porter makes "frameworks" find "framework".
    """
    CREATE VIRTUAL TABLE packages_fts USING fts5(
        name, summary, keywords, description,
        content='packages', content_rowid='rowid',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    # detail='none' keeps the index small: LIKE re-checks every candidate against the name.
    """
    CREATE VIRTUAL TABLE packages_name_fts USING fts5(
        id, content='packages', content_rowid='rowid', tokenize='trigram', detail='none'
    )
    """,
    # External-content FTS5 can only remove a row it is told the old values of, so every
    # delete hands them over exactly as they were indexed.
    """
    CREATE TRIGGER packages_search_insert AFTER INSERT ON packages BEGIN
        INSERT INTO packages_fts (rowid, name, summary, keywords, description)
        VALUES (new.rowid, new.name, new.summary, new.keywords, new.description);
        INSERT INTO packages_name_fts (rowid, id) VALUES (new.rowid, new.id);
    END
    """,
    """
    CREATE TRIGGER packages_search_delete AFTER DELETE ON packages BEGIN
        INSERT INTO packages_fts (packages_fts, rowid, name, summary, keywords, description)
        VALUES ('delete', old.rowid, old.name, old.summary, old.keywords, old.description);
        INSERT INTO packages_name_fts (packages_name_fts, rowid, id)
        VALUES ('delete', old.rowid, old.id);
    END
    """,
    # Only the indexed columns: last_serial and last_updated change on every upload.
    """
    CREATE TRIGGER packages_search_update_text
    AFTER UPDATE OF name, summary, keywords, description ON packages BEGIN
        INSERT INTO packages_fts (packages_fts, rowid, name, summary, keywords, description)
        VALUES ('delete', old.rowid, old.name, old.summary, old.keywords, old.description);
        INSERT INTO packages_fts (rowid, name, summary, keywords, description)
        VALUES (new.rowid, new.name, new.summary, new.keywords, new.description);
    END
    """,
    """
    CREATE TRIGGER packages_search_update_id AFTER UPDATE OF id ON packages BEGIN
        INSERT INTO packages_name_fts (packages_name_fts, rowid, id)
        VALUES ('delete', old.rowid, old.id);
        INSERT INTO packages_name_fts (rowid, id) VALUES (new.rowid, new.id);
    END
    """,
    # The projects already there.
    "INSERT INTO packages_fts (packages_fts) VALUES ('rebuild')",
    "INSERT INTO packages_name_fts (packages_name_fts) VALUES ('rebuild')",
]

_SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS packages_search_update_id",
    "DROP TRIGGER IF EXISTS packages_search_update_text",
    "DROP TRIGGER IF EXISTS packages_search_delete",
    "DROP TRIGGER IF EXISTS packages_search_insert",
    "DROP TABLE IF EXISTS packages_name_fts",
    "DROP TABLE IF EXISTS packages_fts",
]

# Names are split on the characters PEP 503 folds, as SQLite's tokenizer does, so that
# "interface" finds zope.interface. A tsvector is limited to 1 MB; 100,000 characters of README
# stay below it whatever the text, and rank as well as the whole would.
_POSTGRES_SEARCH_VECTOR = """
    ALTER TABLE packages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', regexp_replace(name, '[-_.]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english', coalesce(keywords, '')), 'B')
        || setweight(to_tsvector('english', left(coalesce(description, ''), 100000)), 'C')
    ) STORED
"""


def upgrade() -> None:
    op.create_table(
        "package_classifiers",
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("classifier", sa.String(length=255), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_package_classifiers_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_id", "classifier", name=op.f("pk_package_classifiers")),
    )
    with op.batch_alter_table("package_classifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_package_classifiers_classifier"), ["classifier"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_package_classifiers_created_date"), ["created_date"], unique=False
        )

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_UPGRADE:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute(_POSTGRES_SEARCH_VECTOR)
        op.execute("CREATE INDEX ix_packages_search_vector ON packages USING gin (search_vector)")
        if _have_pg_trgm(bind):
            op.execute("CREATE INDEX ix_packages_id_trgm ON packages USING gin (id gin_trgm_ops)")


def _have_pg_trgm(bind: sa.Connection) -> bool:
    """Whether pg_trgm is installed, installing it if it is available and we may.

    Without it "name contains" still works, by a scan of the names instead of an index.
    """
    try:
        # A savepoint: a refused CREATE EXTENSION must not abort the migration's transaction.
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as error:
        log.warning("pg_trgm unavailable, name search will scan: %s", error.orig)
        return False
    return True


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_DOWNGRADE:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        # pg_trgm stays: it may have been there before, and other objects may use it.
        op.execute("DROP INDEX IF EXISTS ix_packages_id_trgm")
        op.execute("DROP INDEX IF EXISTS ix_packages_search_vector")
        op.execute("ALTER TABLE packages DROP COLUMN IF EXISTS search_vector")

    with op.batch_alter_table("package_classifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_classifiers_created_date"))
        batch_op.drop_index(batch_op.f("ix_package_classifiers_classifier"))

    op.drop_table("package_classifiers")
