"""retention rules: how long pre-releases and dev releases stay, per project or site-wide

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 20:00:00

``wheelyard cleanup`` reads them (services/projects/retention.py). A new table only: no
existing table is touched, so SQLite's triggers on packages and users stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("project_id", sa.String(length=200), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("keep", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["packages.id"],
            name=op.f("fk_retention_rules_project_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_rules")),
        sa.UniqueConstraint("project_id", name=op.f("uq_retention_rules_project_id")),
    )
    op.create_index(
        op.f("ix_retention_rules_created_date"), "retention_rules", ["created_date"], unique=False
    )


def downgrade() -> None:
    op.drop_table("retention_rules")
