"""the site's downloads per day, and each project's downloads over the last 30 days

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 13:20:00

``/stats/`` summed ``download_counts`` over every project for its totals, its chart and its
top projects: millions of rows at PyPI's size. ``download_totals`` holds the site's count
per day (filled here from ``download_counts``); ``download_recent`` each project's sum over
the 30 days ending on ``download_window.last_day``. The window starts far in the past, so
the first write of downloads fills it (services.analytics.recent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "download_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_mirror", sa.Boolean(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.PrimaryKeyConstraint("day", "is_mirror", name=op.f("pk_download_totals")),
    )
    op.execute(
        "INSERT INTO download_totals (day, is_mirror, downloads)"
        " SELECT day, is_mirror, sum(downloads) FROM download_counts GROUP BY day, is_mirror"
    )
    with op.batch_alter_table("download_totals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_download_totals_created_date"), ["created_date"], unique=False
        )

    op.create_table(
        "download_recent",
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("is_mirror", sa.Boolean(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_download_recent_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_id", "is_mirror", name=op.f("pk_download_recent")),
    )
    with op.batch_alter_table("download_recent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_download_recent_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(
            "ix_download_recent_top",
            ["is_mirror", sa.text("downloads DESC"), "package_id"],
            unique=False,
        )

    window = op.create_table(
        "download_window",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_window")),
    )
    with op.batch_alter_table("download_window", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_download_window_created_date"), ["created_date"], unique=False
        )
    # More than 30 days back: the next write of downloads refills the sums for its day.
    op.bulk_insert(window, [{"id": 1, "last_day": dt.date(2000, 1, 1)}])


def downgrade() -> None:
    for table in ("download_window", "download_recent", "download_totals"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_created_date"))
            if table == "download_recent":
                batch_op.drop_index("ix_download_recent_top")
        op.drop_table(table)
