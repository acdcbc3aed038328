"""packages: a visibility, public or private

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:40:00

A private project is seen only by those with a role on it. Every project made before was
public and stays so.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.add_column(
            sa.Column(
                "visibility",
                sa.Enum("public", "private", name="visibility", native_enum=False, length=16),
                nullable=False,
                server_default="public",
            )
        )
        batch.create_index("ix_packages_visibility", ["visibility"])


def downgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.drop_index("ix_packages_visibility")
        batch.drop_column("visibility")
