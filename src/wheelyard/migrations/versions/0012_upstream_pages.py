"""upstream_pages, upstream_files: the pull-through cache of upstream indexes

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-03 08:40:00

Chained on 0009 while 0010 and 0011 are written beside it; re-chained when they merge.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upstream_pages",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("etag", sa.String(512), nullable=True),
        sa.Column("listing", sa.Text(), nullable=False),
        sa.Column("checked_date", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_pages")),
    )
    op.create_index(
        op.f("ix_upstream_pages_created_date"), "upstream_pages", ["created_date"], unique=False
    )
    op.create_table(
        "upstream_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("project_id", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(520), nullable=False),
        sa.Column("sha256_digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storage_path", sa.String(1024), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_files")),
        sa.UniqueConstraint("filename", name=op.f("uq_upstream_files_filename")),
    )
    op.create_index(
        op.f("ix_upstream_files_created_date"), "upstream_files", ["created_date"], unique=False
    )
    op.create_index(
        op.f("ix_upstream_files_project_id"), "upstream_files", ["project_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_upstream_files_project_id"), table_name="upstream_files")
    op.drop_index(op.f("ix_upstream_files_created_date"), table_name="upstream_files")
    op.drop_table("upstream_files")
    op.drop_index(op.f("ix_upstream_pages_created_date"), table_name="upstream_pages")
    op.drop_table("upstream_pages")
