"""packages: the ultranormalized name, indexed; users: room for sealed two-factor secrets

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00

PyPI refuses a new project whose name differs from an existing one only by separators,
case or look-alike characters (``fl-ask``, ``f1ask`` beside ``flask``). The column holds
that comparison's form of every name; existing rows are filled from their names here.

Two-factor secrets are now stored sealed (Fernet, services/accounts/sealed.py), longer than
the plain base32 the columns were sized for. The key is derived from the server's secret
key, which a migration is not given, so plain-text secrets already stored are sealed on
their next use (stale values are read as plain text until then).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from wheelyard.data.package import ultranormalize_name

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SECRET_COLUMNS = ("totp_secret", "totp_pending_secret")
_packages = sa.table(
    "packages",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("ultranormalized", sa.String),
)


def upgrade() -> None:
    bind = op.get_bind()
    # A plain ADD COLUMN on both databases, never SQLite's copy of the whole table: the copy
    # would drop the triggers that keep the search index and the counts (0003, 0005), and
    # renumber the rowids the search index refers to.
    op.add_column(
        "packages",
        sa.Column("ultranormalized", sa.String(200), nullable=False, server_default=""),
    )
    rows = bind.execute(sa.select(_packages.c.id, _packages.c.name)).all()
    if rows:
        bind.execute(
            _packages.update()
            .where(_packages.c.id == sa.bindparam("row_id"))
            .values(ultranormalized=sa.bindparam("form")),
            [{"row_id": row.id, "form": ultranormalize_name(row.name)} for row in rows],
        )
    if bind.dialect.name != "sqlite":
        # SQLite cannot drop a column default in place; the models never rely on it.
        op.alter_column("packages", "ultranormalized", server_default=None)
    op.create_index("ix_packages_ultranormalized", "packages", ["ultranormalized"])
    with _triggers_kept(bind, "users"), op.batch_alter_table("users") as batch:
        for column in _SECRET_COLUMNS:
            batch.alter_column(column, existing_type=sa.String(64), type_=sa.String(255))


@contextmanager
def _triggers_kept(bind: sa.Connection, table: str) -> Iterator[None]:
    """SQLite changes a column's type by copying the table, which drops its triggers (the
    counts of migration 0005): they are put back as they were."""
    if bind.dialect.name != "sqlite":
        yield
        return
    query = sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t")
    kept = list(bind.execute(query, {"t": table}).scalars())
    yield
    for sql in kept:
        bind.exec_driver_sql(sql)


def downgrade() -> None:
    # The version before cannot read a sealed secret, and dropping it would turn two-factor
    # login off unasked: refused while any account has one.
    users = sa.table("users", *(sa.column(name, sa.String) for name in _SECRET_COLUMNS))
    sealed = sa.or_(*(users.c[name].like("fernet:%") for name in _SECRET_COLUMNS))
    count = op.get_bind().scalar(sa.select(sa.func.count()).select_from(users).where(sealed))
    if count:
        raise RuntimeError(
            f"{count} account(s) have sealed two-factor secrets, which the older version cannot "
            "read; have them turn two-factor login off before downgrading."
        )
    bind = op.get_bind()
    with _triggers_kept(bind, "users"), op.batch_alter_table("users") as batch:
        for name in _SECRET_COLUMNS:
            batch.alter_column(name, existing_type=sa.String(255), type_=sa.String(64))
    op.drop_index("ix_packages_ultranormalized", table_name="packages")
    # SQLite 3.35 and later drop a column in place (no copy, so the triggers stay).
    op.drop_column("packages", "ultranormalized")
