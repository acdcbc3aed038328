"""Every row of one wheelyard database into another: ``db copy``, backups and restores.

The target's schema is built by the migrations, never from the models, so it is what a
server on that database would have built (triggers, full-text search, PostgreSQL's
indexes). Rows then go in table by table in foreign-key order (the models' sorted tables),
each in the source's key order, in batches. Both sides must be at the same revision.

Two kinds of table are special. The migrations fill some (``index_counts``' slots,
``download_window``'s row), and the running-totals triggers (migration 0005) add to
``index_counts`` and ``package_sizes`` as the packages, releases, files and users go in:
left alone, the totals would end up counted twice. Those tables are emptied last of all
and take the source's rows, so every total is the source's, exactly.

On PostgreSQL each table's id sequence is then set past both the largest id copied and
the source's own sequence (ids a rolled-back insert used are not handed out again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from wheelyard.data import __all_models  # noqa: F401 - registers every table
from wheelyard.data.modelbase import SqlAlchemyBase
from wheelyard.services.ops import schema

BATCH_ROWS = 2000
# Filled by the migrations themselves: a freshly migrated database already has these rows.
SEEDED_BY_MIGRATIONS = frozenset({"index_counts", "download_window"})
# Kept by the running-totals triggers as other tables' rows go in.
KEPT_BY_TRIGGERS = frozenset({"index_counts", "package_sizes"})
REPLACED_LAST = SEEDED_BY_MIGRATIONS | KEPT_BY_TRIGGERS


class CopyRefused(Exception):
    """The copy cannot be made (a target with rows, revisions that differ); says why."""


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def tables() -> list[sa.Table]:
    return list(SqlAlchemyBase.metadata.sorted_tables)


def require_revision(connection: sa.Connection, what: str) -> str:
    """The database's revision, which must be this version's head."""
    current = schema.current_revision(connection)
    head = schema.head_revision()
    if current != head:
        found = "no wheelyard schema" if current is None else f"revision {current}"
        raise CopyRefused(
            f"the {what} has {found}, this wheelyard is at {head}: "
            + ("point at the right database" if current is None else "run wheelyard db upgrade")
        )
    return current


def why_not_empty(connection: sa.Connection) -> str | None:
    """Why the database is not as the migrations leave it (None when it is): a restore or
    copy into it would mix two indexes."""
    if schema.current_revision(connection) is None:
        return None
    found = []
    for table in tables():
        if table.name in SEEDED_BY_MIGRATIONS:
            continue
        count = connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        if count:
            found.append(f"{table.name} has {count:,} rows")
    totals = sa.table("index_counts", sa.column("projects"), sa.column("files"))
    if connection.scalar(sa.select(sa.func.sum(totals.c.projects + totals.c.files))):
        found.append("index_counts has totals")
    return "; ".join(found) if found else None


def prepare_target(target: sa.Engine) -> None:
    """The target brought to head by the migrations; CopyRefused if it holds anything."""
    with target.connect() as connection:
        reason = why_not_empty(connection)
        current = schema.current_revision(connection)
    if reason is not None:
        raise CopyRefused(f"the target database is not empty: {reason}")
    if current is not None and current not in schema.known_revisions():
        raise CopyRefused(f"the target database is at {current}, unknown to this wheelyard")
    schema.upgrade(target)


def _rows(source: sa.Connection, table: sa.Table) -> Iterator[list[dict[str, object]]]:
    query = sa.select(table).order_by(*table.primary_key.columns)
    result = source.execution_options(yield_per=BATCH_ROWS).execute(query)
    for batch in result.partitions():
        yield [dict(row._mapping) for row in batch]


def copy_table(source: sa.Connection, target: sa.Connection, table: sa.Table) -> int:
    count = 0
    for batch in _rows(source, table):
        target.execute(table.insert(), batch)
        count += len(batch)
    return count


def copy_rows(source: sa.Connection, target: sa.Connection) -> Copied:
    """Every row of ``source`` into ``target`` (at head, as the migrations leave it), in
    the caller's transactions: a copy that fails leaves the target as it was."""
    require_revision(source, "source database")
    require_revision(target, "target database")
    rows: dict[str, int] = {}
    for table in tables():
        if table.name not in REPLACED_LAST:
            rows[table.name] = copy_table(source, target, table)
    # After every insert has fired its triggers: the source's totals, not a second count.
    for table in tables():
        if table.name in REPLACED_LAST:
            target.execute(table.delete())
            rows[table.name] = copy_table(source, target, table)
    if target.dialect.name == "postgresql":
        reset_sequences(source, target)
    return Copied(rows)


def _id_columns() -> Iterator[tuple[sa.Table, sa.Column[int]]]:
    for table in tables():
        column = table.autoincrement_column
        if column is not None:
            yield table, column


def _source_next_id(source: sa.Connection, table: sa.Table, column: sa.Column[int]) -> int:
    """The next id the source would have handed out (past its largest id on SQLite)."""
    largest = source.scalar(sa.select(sa.func.max(column))) or 0
    if source.dialect.name != "postgresql":
        return largest + 1
    sequence = source.scalar(
        sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
        {"table": table.name, "column": column.name},
    )
    if sequence is None:
        return largest + 1
    last, called = source.execute(
        sa.text(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - a name PG gave
    ).one()
    return max(largest + 1, int(last) + 1 if called else int(last))


def reset_sequences(source: sa.Connection, target: sa.Connection) -> None:
    for table, column in _id_columns():
        sequence = target.scalar(
            sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        )
        if sequence is not None:
            target.execute(
                sa.text("SELECT setval(:sequence, :next, false)"),
                {"sequence": sequence, "next": _source_next_id(source, table, column)},
            )


def copy_database(source: sa.Engine, target: sa.Engine) -> Copied:
    """``db copy``: ``target`` (empty) built by the migrations and given every row.

    The source is read in one snapshot (PostgreSQL: a serializable read-only deferrable
    transaction; SQLite: one read transaction), so a server still running on it is copied
    as it was at one moment.
    """
    prepare_target(target)
    with snapshot(source) as reading, target.begin() as writing:
        return copy_rows(reading, writing)


def snapshot(engine: sa.Engine) -> sa.engine.Connection:
    """A connection whose reads all see one moment of the database, until it closes."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(
            isolation_level="SERIALIZABLE", postgresql_readonly=True, postgresql_deferrable=True
        )
    connection.begin()
    if engine.dialect.name == "sqlite":
        # BEGIN is deferred: the read transaction (the snapshot) starts at the first read.
        connection.exec_driver_sql("SELECT count(*) FROM alembic_version")
    return connection
