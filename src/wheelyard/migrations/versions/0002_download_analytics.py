"""download analytics: user-agent fields and daily rollups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 07:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable (or defaulted) columns only: adding them rewrites no existing row on
    # PostgreSQL, however many downloads are stored. Old rows get their values from
    # `wheelyard stats rebuild`.
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("packagetype", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("installer", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("python_minor", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("system", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("is_mirror", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        # Every row stored so far is in it, until `wheelyard stats rebuild` classifies them.
        batch_op.create_index(
            "ix_downloads_unclassified",
            ["created_date"],
            unique=False,
            sqlite_where=sa.text("installer IS NULL"),
            postgresql_where=sa.text("installer IS NULL"),
        )

    op.create_table(
        "download_breakdowns",
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("is_mirror", sa.Boolean(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_download_breakdowns_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "package_id",
            "dimension",
            "day",
            "category",
            "is_mirror",
            name=op.f("pk_download_breakdowns"),
        ),
    )
    with op.batch_alter_table("download_breakdowns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_download_breakdowns_created_date"), ["created_date"], unique=False
        )

    op.create_table(
        "download_counts",
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_mirror", sa.Boolean(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_download_counts_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_id", "day", "is_mirror", name=op.f("pk_download_counts")),
    )
    with op.batch_alter_table("download_counts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_download_counts_created_date"), ["created_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_download_counts_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("download_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_counts_day"))
        batch_op.drop_index(batch_op.f("ix_download_counts_created_date"))
    op.drop_table("download_counts")

    with op.batch_alter_table("download_breakdowns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_breakdowns_created_date"))
    op.drop_table("download_breakdowns")

    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_downloads_unclassified",
            sqlite_where=sa.text("installer IS NULL"),
            postgresql_where=sa.text("installer IS NULL"),
        )
        batch_op.drop_column("is_mirror")
        batch_op.drop_column("system")
        batch_op.drop_column("python_minor")
        batch_op.drop_column("installer")
        batch_op.drop_column("packagetype")
        batch_op.drop_column("version")
