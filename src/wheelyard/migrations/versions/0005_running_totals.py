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
until its writer commits: an upload holds it while its blob is stored). Within a trigger the
slot is always locked before a package's size row, so two writers never take the two in
opposite orders. PostgreSQL counts once per statement (see ``_POSTGRES_FUNCTIONS``); SQLite
counts per row, has one writer at a time and uses slot 0.

``package_sizes`` has no foreign key: the package's trigger removes its row, and on
PostgreSQL a key check would refuse the size updates that a project's removal cascades into
(its releases go after it). A release removal takes its files' bytes off its package
*before* the row goes: the files then go by cascade, and by then their release (the way to
their package) is gone.

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
    # A file's package is its release's (none once the release is gone).
    """
    CREATE TRIGGER release_files_count_insert AFTER INSERT ON release_files BEGIN
        UPDATE index_counts SET files = files + 1, total_size = total_size + new.size
        WHERE slot = 0;
        UPDATE package_sizes SET size = size + new.size WHERE package_id = (
            SELECT package_id FROM releases WHERE id = new.release_id
        );
    END
    """,
    """
    CREATE TRIGGER release_files_count_delete AFTER DELETE ON release_files BEGIN
        UPDATE index_counts SET files = files - 1, total_size = total_size - old.size
        WHERE slot = 0;
        UPDATE package_sizes SET size = size - old.size WHERE package_id = (
            SELECT package_id FROM releases WHERE id = old.release_id
        );
    END
    """,
    """
    CREATE TRIGGER release_files_count_update AFTER UPDATE OF size, release_id ON release_files
    BEGIN
        UPDATE index_counts SET total_size = total_size - old.size + new.size WHERE slot = 0;
        UPDATE package_sizes SET size = size - old.size WHERE package_id = (
            SELECT package_id FROM releases WHERE id = old.release_id
        );
        UPDATE package_sizes SET size = size + new.size WHERE package_id = (
            SELECT package_id FROM releases WHERE id = new.release_id
        );
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

# PostgreSQL counts per statement, over its transition tables: a bulk load (COPY, a large
# executemany) adjusts each total once, where a row trigger would update one row millions of
# times in one transaction and walk an ever longer chain of its versions each time.
_POSTGRES_FUNCTIONS = [
    # 16: COUNT_SLOTS.
    """
    CREATE FUNCTION add_to_index_counts(
        d_projects bigint, d_releases bigint, d_files bigint, d_users bigint, d_size bigint
    ) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF d_projects <> 0 OR d_releases <> 0 OR d_files <> 0 OR d_users <> 0
           OR d_size <> 0 THEN
            UPDATE index_counts SET
                projects = projects + d_projects,
                releases = releases + d_releases,
                files = files + d_files,
                users = users + d_users,
                total_size = total_size + d_size
            WHERE slot = (txid_current() % 16)::integer;
        END IF;
    END
    $$
    """,
    """
    CREATE FUNCTION count_inserted_packages() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts((SELECT count(*) FROM inserted), 0, 0, 0, 0);
        INSERT INTO package_sizes (package_id, size) SELECT id, 0 FROM inserted;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION count_deleted_packages() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(-(SELECT count(*) FROM deleted), 0, 0, 0, 0);
        DELETE FROM package_sizes WHERE package_id IN (SELECT id FROM deleted);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION count_inserted_releases() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(0, (SELECT count(*) FROM inserted), 0, 0, 0);
        RETURN NULL;
    END
    $$
    """,
    # Per row, before the row goes (see the module's docstring); the count first, so the
    # slot is locked before the package's size row, as in every other trigger here.
    """
    CREATE FUNCTION count_deleted_release() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(0, -1, 0, 0, 0);
        UPDATE package_sizes SET size = size - (
            SELECT coalesce(sum(size), 0) FROM release_files WHERE release_id = OLD.id
        ) WHERE package_id = OLD.package_id;
        RETURN OLD;
    END
    $$
    """,
    """
    CREATE FUNCTION count_inserted_files() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(
            0, 0, (SELECT count(*) FROM inserted), 0,
            (SELECT coalesce(sum(size), 0)::bigint FROM inserted)
        );
        UPDATE package_sizes SET size = package_sizes.size + added.size
        FROM (
            SELECT releases.package_id, sum(inserted.size) AS size
            FROM inserted JOIN releases ON releases.id = inserted.release_id
            GROUP BY releases.package_id
        ) AS added
        WHERE package_sizes.package_id = added.package_id;
        RETURN NULL;
    END
    $$
    """,
    # A file whose release is gone (a release removal's cascade) was counted off already.
    """
    CREATE FUNCTION count_deleted_files() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(
            0, 0, -(SELECT count(*) FROM deleted), 0,
            -(SELECT coalesce(sum(size), 0)::bigint FROM deleted)
        );
        UPDATE package_sizes SET size = package_sizes.size - removed.size
        FROM (
            SELECT releases.package_id, sum(deleted.size) AS size
            FROM deleted JOIN releases ON releases.id = deleted.release_id
            GROUP BY releases.package_id
        ) AS removed
        WHERE package_sizes.package_id = removed.package_id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION count_updated_files() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(
            0, 0, 0, 0,
            (SELECT coalesce(sum(size), 0)::bigint FROM after)
            - (SELECT coalesce(sum(size), 0)::bigint FROM before)
        );
        WITH changed AS (
            SELECT before.release_id AS old_release, before.size AS old_size,
                   after.release_id AS new_release, after.size AS new_size
            FROM before JOIN after ON after.id = before.id
            WHERE after.size <> before.size OR after.release_id <> before.release_id
        ), moves AS (
            SELECT releases.package_id, -changed.old_size AS size
            FROM changed JOIN releases ON releases.id = changed.old_release
            UNION ALL
            SELECT releases.package_id, changed.new_size AS size
            FROM changed JOIN releases ON releases.id = changed.new_release
        )
        UPDATE package_sizes SET size = package_sizes.size + moved.size
        FROM (SELECT package_id, sum(size) AS size FROM moves GROUP BY package_id) AS moved
        WHERE package_sizes.package_id = moved.package_id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION count_inserted_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(0, 0, 0, (SELECT count(*) FROM inserted), 0);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION count_deleted_users() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM add_to_index_counts(0, 0, 0, -(SELECT count(*) FROM deleted), 0);
        RETURN NULL;
    END
    $$
    """,
]

# (trigger, table, timing and event, transition table, function)
_POSTGRES_TRIGGERS = [
    (
        "packages_count_insert",
        "packages",
        "AFTER INSERT",
        "NEW TABLE AS inserted",
        "count_inserted_packages",
    ),
    (
        "packages_count_delete",
        "packages",
        "AFTER DELETE",
        "OLD TABLE AS deleted",
        "count_deleted_packages",
    ),
    (
        "releases_count_insert",
        "releases",
        "AFTER INSERT",
        "NEW TABLE AS inserted",
        "count_inserted_releases",
    ),
    ("releases_count_delete", "releases", "BEFORE DELETE", None, "count_deleted_release"),
    (
        "release_files_count_insert",
        "release_files",
        "AFTER INSERT",
        "NEW TABLE AS inserted",
        "count_inserted_files",
    ),
    (
        "release_files_count_delete",
        "release_files",
        "AFTER DELETE",
        "OLD TABLE AS deleted",
        "count_deleted_files",
    ),
    (
        "release_files_count_update",
        "release_files",
        "AFTER UPDATE",
        "OLD TABLE AS before NEW TABLE AS after",
        "count_updated_files",
    ),
    (
        "users_count_insert",
        "users",
        "AFTER INSERT",
        "NEW TABLE AS inserted",
        "count_inserted_users",
    ),
    ("users_count_delete", "users", "AFTER DELETE", "OLD TABLE AS deleted", "count_deleted_users"),
]

_POSTGRES_FUNCTION_NAMES = [
    "count_deleted_users",
    "count_inserted_users",
    "count_updated_files",
    "count_deleted_files",
    "count_inserted_files",
    "count_deleted_release",
    "count_inserted_releases",
    "count_deleted_packages",
    "count_inserted_packages",
    "add_to_index_counts",
]


def _postgres_trigger(
    name: str, table: str, when: str, transition: str | None, function: str
) -> str:
    if transition is None:
        return f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
    return (
        f"CREATE TRIGGER {name} {when} ON {table} REFERENCING {transition}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


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
        for statement in _POSTGRES_FUNCTIONS:
            op.execute(statement)
        for trigger in _POSTGRES_TRIGGERS:
            op.execute(_postgres_trigger(*trigger))
        op.execute('CREATE INDEX ix_packages_id_c ON packages (id COLLATE "C")')
    elif bind.dialect.name == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_packages_id_c")
        for name, table, *_rest in reversed(_POSTGRES_TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in _POSTGRES_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    elif bind.dialect.name == "sqlite":
        for name in reversed(_SQLITE_TRIGGER_NAMES):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index(op.f("ix_package_sizes_size"), table_name="package_sizes")
    op.drop_table("package_sizes")
    op.drop_table("index_counts")
