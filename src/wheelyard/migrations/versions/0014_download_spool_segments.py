"""download_spool_segments: the spool segments already stored, so a replay never counts twice

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-03 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "download_spool_segments",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
    )
    op.create_index(
        "ix_download_spool_segments_created_date", "download_spool_segments", ["created_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_download_spool_segments_created_date", "download_spool_segments")
    op.drop_table("download_spool_segments")
