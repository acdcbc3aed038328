"""teams: named groups of users holding roles on projects; maintainers gain the Reader role

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 08:40:00

``maintainers.role`` is a non-native enum without a CHECK constraint: the new "Reader"
value needs no change to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wheelyard.data.modelbase import utcnow

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("normalized", sa.String(length=50), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("normalized", name=op.f("uq_teams_normalized")),
    )
    op.create_index(op.f("ix_teams_created_date"), "teams", ["created_date"], unique=False)

    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_index(
        op.f("ix_team_members_created_date"), "team_members", ["created_date"], unique=False
    )
    op.create_index(op.f("ix_team_members_user_id"), "team_members", ["user_id"], unique=False)

    op.create_table(
        "team_roles",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum("Owner", "Maintainer", "Reader", name="role", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_date", sa.DateTime(), server_default=utcnow(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_team_roles_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_roles_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "package_id", name=op.f("pk_team_roles")),
    )
    op.create_index(
        op.f("ix_team_roles_created_date"), "team_roles", ["created_date"], unique=False
    )
    op.create_index(op.f("ix_team_roles_package_id"), "team_roles", ["package_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_team_roles_package_id"), table_name="team_roles")
    op.drop_index(op.f("ix_team_roles_created_date"), table_name="team_roles")
    op.drop_table("team_roles")
    op.drop_index(op.f("ix_team_members_user_id"), table_name="team_members")
    op.drop_index(op.f("ix_team_members_created_date"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_index(op.f("ix_teams_created_date"), table_name="teams")
    op.drop_table("teams")
