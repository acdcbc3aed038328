"""upstream_pages: the pull-through cache of upstream project pages

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
down_revision: str | None = "0009"
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


def downgrade() -> None:
    op.drop_index(op.f("ix_upstream_pages_created_date"), table_name="upstream_pages")
    op.drop_table("upstream_pages")
