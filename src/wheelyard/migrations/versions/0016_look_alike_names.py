"""packages: the ultranormalized name, indexed, so a look-alike of a new name is one lookup

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00

PyPI refuses a new project whose name differs from an existing one only by separators,
case or look-alike characters (``fl-ask``, ``f1ask`` beside ``flask``). The column holds
that comparison's form of every name; existing rows are filled from their names here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.package import ultranormalize_name

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_packages = sa.table(
    "packages",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("ultranormalized", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.add_column(sa.Column("ultranormalized", sa.String(200), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_packages.c.id, _packages.c.name)).all()
    if rows:
        bind.execute(
            _packages.update()
            .where(_packages.c.id == sa.bindparam("row_id"))
            .values(ultranormalized=sa.bindparam("form")),
            [{"row_id": row.id, "form": ultranormalize_name(row.name)} for row in rows],
        )
    with op.batch_alter_table("packages") as batch:
        batch.alter_column("ultranormalized", existing_type=sa.String(200), nullable=False)
        batch.create_index("ix_packages_ultranormalized", ["ultranormalized"])


def downgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.drop_index("ix_packages_ultranormalized")
        batch.drop_column("ultranormalized")
