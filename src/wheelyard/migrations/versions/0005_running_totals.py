"""running totals: index counts and package sizes kept by triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:15:00

The home page's figures (projects, releases, files, users) and the /stats/ page's total size
and biggest projects were counted over every row on each view: seconds at a million projects
and five million files. ``index_counts`` and ``package_sizes`` now hold them, kept current by
triggers in the same transaction as each insert or delete, so every writer (uploads, removals,
importers, bulk loaders, user sign-ups) keeps them exact without knowing of them.

``index_counts`` has one row per slot; on PostgreSQL each transaction adds to the slot its
transaction id picks, so concurrent uploads rarely queue on one row lock (a slot stays locked
until its writer commits). Within a trigger the slot is always locked before a package's size
row, so two writers never take the two in opposite orders. SQLite has one writer at a time
and uses slot 0.

``package_sizes`` has no foreign key: the package's trigger removes its row, and on
PostgreSQL a key check would refuse the size updates that a project's removal cascades into
(its releases go after it). A release removal takes its files' bytes off its package *before* the row goes: the files
then go by cascade, and by then their release (the way to their package) is gone.

On PostgreSQL the tables are locked while the totals are backfilled, so a write running
during the migration cannot be missed; the key-order index on ``packages.id`` (COLLATE "C")
lets /simple/ be read in chunks whose order Python and the database agree on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNT_SLOTS = 16

_BACKFILL_TOTALS = """
    UPDATE index_counts SET
        projects = (SELECT count(*) FROM packages),
        releases = (SELECT count(*) FROM releases),
        files = (SELECT count(*) FROM release_files),
        users = (SELECT count(*) FROM users),
        total_size = (SELECT coalesce(sum(size), 0) FROM release_files)
    WHERE slot = 0
"""

_BACKFILL_SIZES = """
    INSERT INTO package_sizes (package_id, size)
    SELECT packages.id, coalesce(sizes.size, 0)
    FROM packages LEFT JOIN (
        SELECT releases.package_id AS package_id, sum(release_files.size) AS size
        FROM release_files JOIN releases ON releases.id = release_files.release_id
        GROUP BY releases.package_id
    ) AS sizes ON sizes.package_id = packages.id
"""

# The package a file belongs to, through its release (NULL once the release is gone).
_PACKAGE_OF_NEW = "(SELECT package_id FROM releases WHERE id = new.release_id)"
_PACKAGE_OF_OLD = "(SELECT package_id FROM releases WHERE id = old.release_id)"

_SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER packages_count_insert AFTER INSERT ON packages BEGIN
        UPDATE index_counts SET projects = projects + 1 WHERE slot = 0;
        INSERT INTO package_sizes (package_id, size) VALUES (new.id, 0);
    END
    """,
    """
    CREATE TRIGGER packages_count_delete AFTER DELETE ON packages BEGIN
        UPDATE index_counts SET projects = projects - 1 WHERE slot = 0;
        DELETE FROM package_sizes WHERE package_id = old.id;
    END
    """,
    """
    CREATE TRIGGER releases_count_insert AFTER INSERT ON releases BEGIN
        UPDATE index_counts SET releases = releases + 1 WHERE slot = 0;
    END
    """,
    """
    CREATE TRIGGER releases_count_delete BEFORE DELETE ON releases BEGIN
        UPDATE index_counts SET releases = releases - 1 WHERE slot = 0;
        UPDATE package_sizes SET size = size - (
            SELECT coalesce(sum(size), 0) FROM release_files WHERE release_id = old.id
        ) WHERE package_id = old.package_id;
    END
    """,
    f"""
    CREATE TRIGGER release_files_count_insert AFTER INSERT ON release_files BEGIN
        UPDATE index_counts SET files = files + 1, total_size = total_size + new.size
        WHERE slot = 0;
        UPDATE package_sizes SET size = size + new.size WHERE package_id = {_PACKAGE_OF_NEW};
    END
    """,
    f"""
    CREATE TRIGGER release_files_count_delete AFTER DELETE ON release_files BEGIN
        UPDATE index_counts SET files = files - 1, total_size = total_size - old.size
        WHERE slot = 0;
        UPDATE package_sizes SET size = size - old.size WHERE package_id = {_PACKAGE_OF_OLD};
    END
    """,
    f"""
    CREATE TRIGGER release_files_count_update AFTER UPDATE OF size, release_id ON release_files
    BEGIN
        UPDATE index_counts SET total_size = total_size - old.size + new.size WHERE slot = 0;
        UPDATE package_sizes SET size = size - old.size WHERE package_id = {_PACKAGE_OF_OLD};
        UPDATE package_sizes SET size = size + new.size WHERE package_id = {_PACKAGE_OF_NEW};
    END
    """,
    """
    CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
        UPDATE index_counts SET users = users + 1 WHERE slot = 0;
    END
    """,
    """
    CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
        UPDATE index_counts SET users = users - 1 WHERE slot = 0;
    END
    """,
]

_SQLITE_TRIGGER_NAMES = [
    "packages_count_insert",
    "packages_count_delete",
    "releases_count_insert",
    "releases_count_delete",
    "release_files_count_insert",
    "release_files_count_delete",
    "release_files_count_update",
    "users_count_insert",
    "users_count_delete",
]

_POSTGRES_FUNCTIONS = [
    f"""
    CREATE FUNCTION index_counts_slot() RETURNS integer LANGUAGE sql VOLATILE AS $$
        SELECT (txid_current() % {COUNT_SLOTS})::integer
    $$
    """,
    """
    CREATE FUNCTION count_packages() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE index_counts SET projects = projects + 1 WHERE slot = index_counts_slot();
            INSERT INTO package_sizes (package_id, size) VALUES (NEW.id, 0);
        ELSE
            UPDATE index_counts SET projects = projects - 1 WHERE slot = index_counts_slot();
            DELETE FROM package_sizes WHERE package_id = OLD.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION count_releases() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE index_counts SET releases = releases + 1 WHERE slot = index_counts_slot();
            RETURN NULL;
        END IF;
        UPDATE index_counts SET releases = releases - 1 WHERE slot = index_counts_slot();
        UPDATE package_sizes SET size = size - (
            SELECT coalesce(sum(size), 0) FROM release_files WHERE release_id = OLD.id
        ) WHERE package_id = OLD.package_id;
        RETURN OLD;
    END
    $$
    """,
    f"""
    CREATE FUNCTION count_release_files() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE index_counts SET files = files + 1, total_size = total_size + NEW.size
            WHERE slot = index_counts_slot();
            UPDATE package_sizes SET size = size + NEW.size
            WHERE package_id = {_PACKAGE_OF_NEW.replace("new.", "NEW.")};
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE index_counts SET files = files - 1, total_size = total_size - OLD.size
            WHERE slot = index_counts_slot();
            UPDATE package_sizes SET size = size - OLD.size
            WHERE package_id = {_PACKAGE_OF_OLD.replace("old.", "OLD.")};
        ELSE
            UPDATE index_counts SET total_size = total_size - OLD.size + NEW.size
            WHERE slot = index_counts_slot();
            UPDATE package_sizes SET size = size - OLD.size
            WHERE package_id = {_PACKAGE_OF_OLD.replace("old.", "OLD.")};
            UPDATE package_sizes SET size = size + NEW.size
            WHERE package_id = {_PACKAGE_OF_NEW.replace("new.", "NEW.")};
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION count_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE index_counts SET users = users + 1 WHERE slot = index_counts_slot();
        ELSE
            UPDATE index_counts SET users = users - 1 WHERE slot = index_counts_slot();
        END IF;
        RETURN NULL;
    END
    $$
    """,
]

_POSTGRES_TRIGGERS = [
    """
    CREATE TRIGGER packages_count AFTER INSERT OR DELETE ON packages
    FOR EACH ROW EXECUTE FUNCTION count_packages()
    """,
    """
    CREATE TRIGGER releases_count_insert AFTER INSERT ON releases
    FOR EACH ROW EXECUTE FUNCTION count_releases()
    """,
    """
    CREATE TRIGGER releases_count_delete BEFORE DELETE ON releases
    FOR EACH ROW EXECUTE FUNCTION count_releases()
    """,
    """
    CREATE TRIGGER release_files_count
    AFTER INSERT OR DELETE OR UPDATE OF size, release_id ON release_files
    FOR EACH ROW EXECUTE FUNCTION count_release_files()
    """,
    """
    CREATE TRIGGER users_count AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION count_users()
    """,
]

_POSTGRES_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS users_count ON users",
    "DROP TRIGGER IF EXISTS release_files_count ON release_files",
    "DROP TRIGGER IF EXISTS releases_count_delete ON releases",
    "DROP TRIGGER IF EXISTS releases_count_insert ON releases",
    "DROP TRIGGER IF EXISTS packages_count ON packages",
    "DROP FUNCTION IF EXISTS count_users()",
    "DROP FUNCTION IF EXISTS count_release_files()",
    "DROP FUNCTION IF EXISTS count_releases()",
    "DROP FUNCTION IF EXISTS count_packages()",
    "DROP FUNCTION IF EXISTS index_counts_slot()",
]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        # Writers wait for the migration; readers go on.
        op.execute("LOCK TABLE packages, releases, release_files, users IN SHARE MODE")

    op.create_table(
        "index_counts",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("projects", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("releases", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("files", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("users", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total_size", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_index_counts")),
    )
    op.create_table(
        "package_sizes",
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_package_sizes")),
    )
    op.bulk_insert(
        sa.table("index_counts", sa.column("slot", sa.Integer())),
        [{"slot": slot} for slot in range(COUNT_SLOTS)],
    )
    op.execute(_BACKFILL_TOTALS)
    op.execute(_BACKFILL_SIZES)
    # After the backfill: one sorted build instead of a million index insertions.
    op.create_index(op.f("ix_package_sizes_size"), "package_sizes", ["size"], unique=False)

    if postgres:
        for statement in [*_POSTGRES_FUNCTIONS, *_POSTGRES_TRIGGERS]:
            op.execute(statement)
        op.execute('CREATE INDEX ix_packages_id_c ON packages (id COLLATE "C")')
    elif bind.dialect.name == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_packages_id_c")
        for statement in _POSTGRES_DOWNGRADE:
            op.execute(statement)
    elif bind.dialect.name == "sqlite":
        for name in reversed(_SQLITE_TRIGGER_NAMES):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index(op.f("ix_package_sizes_size"), table_name="package_sizes")
    op.drop_table("package_sizes")
    op.drop_table("index_counts")
