"""download breakdowns by month, filled from the daily rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 13:10:00

A project's breakdown over 180 days read one daily row per category and day (180,000 rows
for 1,000 versions). ``download_breakdown_months`` holds the same counts summed by month, so
the stats read whole months from it and only the days at the period's start from the daily
table. The new table starts as the sum of every daily row; from then on the writers keep
both (services.analytics.rollups).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first day of the month, as each database writes a date.
_MONTH_OF_DAY = {
    "postgresql": "CAST(date_trunc('month', day) AS date)",
    "sqlite": "date(day, 'start of month')",
}


def upgrade() -> None:
    op.create_table(
        "download_breakdown_months",
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("is_mirror", sa.Boolean(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_download_breakdown_months_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "package_id",
            "dimension",
            "month",
            "category",
            "is_mirror",
            name=op.f("pk_download_breakdown_months"),
        ),
    )
    month = _MONTH_OF_DAY[op.get_bind().dialect.name]
    # Only the constant expression above is interpolated.
    op.execute(
        "INSERT INTO download_breakdown_months"  # noqa: S608
        " (package_id, dimension, month, category, is_mirror, downloads)"
        f" SELECT package_id, dimension, {month}, category, is_mirror, sum(downloads)"
        " FROM download_breakdowns"
        f" GROUP BY package_id, dimension, {month}, category, is_mirror"
    )
    # After the fill: one index build instead of an update per row.
    with op.batch_alter_table("download_breakdown_months", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_download_breakdown_months_created_date"), ["created_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("download_breakdown_months", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_breakdown_months_created_date"))
    op.drop_table("download_breakdown_months")
