"""account security: session generations, password resets, two-factor

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 07:40:00

Columns are added and dropped with plain ALTER TABLE, never batch mode: on SQLite batch mode
would copy ``packages`` into a new table and lose the full-text triggers migration 0003 put
on it. SQLite has ALTER TABLE ... DROP COLUMN since 3.35.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USER_COLUMNS = ("session_generation", "totp_secret", "totp_pending_secret", "totp_last_counter")


def upgrade() -> None:
    # Nullable or defaulted: no existing row is rewritten, and existing accounts simply have
    # two-factor login off and get a session generation at their next login.
    op.add_column("users", sa.Column("session_generation", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("totp_pending_secret", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("totp_last_counter", sa.BigInteger(), nullable=True))
    op.add_column(
        "packages",
        sa.Column("require_2fa", sa.Boolean(), server_default=sa.false(), nullable=False),
    )

    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hashed_token", sa.String(length=64), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_resets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("hashed_token", name=op.f("uq_password_resets_hashed_token")),
    )
    op.create_index(
        op.f("ix_password_resets_created_date"), "password_resets", ["created_date"], unique=False
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hashed_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("hashed_code", name=op.f("uq_recovery_codes_hashed_code")),
    )
    op.create_index(
        op.f("ix_recovery_codes_created_date"), "recovery_codes", ["created_date"], unique=False
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_index(op.f("ix_recovery_codes_created_date"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_index(op.f("ix_password_resets_created_date"), table_name="password_resets")
    op.drop_table("password_resets")

    op.drop_column("packages", "require_2fa")
    for column in reversed(_USER_COLUMNS):
        op.drop_column("users", column)
