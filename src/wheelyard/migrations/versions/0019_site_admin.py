"""site administration: flags in the database, prohibited names, PEP 792 project status

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 19:00:00

Site flags (read-only mode, registration, two-factor for every uploader) live in the
database so every worker on every machine sees the same; prohibited names refuse the
creation of a project; each project has a PEP 792 status (active, archived, deprecated,
quarantined) and its reason. Every existing project is active.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_flags",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_flags")),
    )
    op.create_index(op.f("ix_site_flags_created_date"), "site_flags", ["created_date"])
    op.create_table(
        "prohibited_names",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prohibited_names")),
    )
    op.create_index(op.f("ix_prohibited_names_created_date"), "prohibited_names", ["created_date"])
    # Plain ADD COLUMNs, never SQLite's copy of the packages table: the copy would drop the
    # triggers of migrations 0003 and 0005.
    op.add_column(
        "packages",
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "archived",
                "deprecated",
                "quarantined",
                name="projectstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
            server_default="active",
        ),
    )
    op.add_column("packages", sa.Column("status_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35 and later drop a column in place (no copy, so the triggers stay).
    op.drop_column("packages", "status_reason")
    op.drop_column("packages", "status")
    op.drop_index(op.f("ix_prohibited_names_created_date"), table_name="prohibited_names")
    op.drop_table("prohibited_names")
    op.drop_index(op.f("ix_site_flags_created_date"), table_name="site_flags")
    op.drop_table("site_flags")
