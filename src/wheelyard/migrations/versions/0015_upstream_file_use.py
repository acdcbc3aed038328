"""upstream_files.last_used_date, upstream_documents: cache eviction and upstream JSON API

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("upstream_files") as batch:
        batch.add_column(sa.Column("last_used_date", sa.DateTime(), nullable=True))
    # Files cached before this revision count as used when they were fetched.
    op.execute("UPDATE upstream_files SET last_used_date = created_date")
    op.create_index(
        op.f("ix_upstream_files_last_used_date"),
        "upstream_files",
        ["last_used_date"],
        unique=False,
    )
    op.create_table(
        "upstream_documents",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("etag", sa.String(512), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("checked_date", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_documents")),
    )
    op.create_index(
        op.f("ix_upstream_documents_created_date"),
        "upstream_documents",
        ["created_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_upstream_documents_created_date"), table_name="upstream_documents")
    op.drop_table("upstream_documents")
    op.drop_index(op.f("ix_upstream_files_last_used_date"), table_name="upstream_files")
    with op.batch_alter_table("upstream_files") as batch:
        batch.drop_column("last_used_date")
