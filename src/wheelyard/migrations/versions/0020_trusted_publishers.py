"""trusted publishing: publishers, minted tokens, used JWT ids, and where a file came from

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 19:00:00

A CI job exchanges its OIDC identity (a JWT) for a short-lived upload token
(services/oidc). ``release_files.published_from`` is a plain ADD COLUMN on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trusted_publishers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("project_id", sa.String(length=200), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("github", "gitlab", "oidc", name="publisherkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("repository", sa.String(length=512), nullable=True),
        sa.Column("workflow", sa.String(length=512), nullable=True),
        sa.Column("environment", sa.String(length=256), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_trusted_publishers_added_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_publishers")),
    )
    for column in ("created_date", "project_id", "issuer", "added_by"):
        op.create_index(
            op.f(f"ix_trusted_publishers_{column}"), "trusted_publishers", [column], unique=False
        )

    op.create_table(
        "publisher_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("hashed_secret", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publisher_tokens")),
        sa.UniqueConstraint("hashed_secret", name=op.f("uq_publisher_tokens_hashed_secret")),
    )
    for column in ("created_date", "expires"):
        op.create_index(
            op.f(f"ix_publisher_tokens_{column}"), "publisher_tokens", [column], unique=False
        )

    op.create_table(
        "oidc_used_tokens",
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("jti", sa.String(length=256), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_oidc_used_tokens")),
    )
    for column in ("created_date", "expires"):
        op.create_index(
            op.f(f"ix_oidc_used_tokens_{column}"), "oidc_used_tokens", [column], unique=False
        )

    op.add_column("release_files", sa.Column("published_from", sa.String(512), nullable=True))


def downgrade() -> None:
    # SQLite 3.35 and later drop a column in place, without copying the table.
    op.drop_column("release_files", "published_from")
    op.drop_table("oidc_used_tokens")
    op.drop_table("publisher_tokens")
    op.drop_table("trusted_publishers")
