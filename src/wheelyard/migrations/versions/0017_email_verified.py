"""users: whether the account has shown it reads mail at its address

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-11 09:00:00

While the index has a mail server, an account made at sign-up may upload only once it has
followed a link mailed to its address, as on PyPI: otherwise anyone could register with
any address and be the first uploader of a name. Every account that exists before this
revision is set verified, so an upgrade locks nobody out of uploading.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_users = sa.table("users", sa.column("email_verified", sa.Boolean))


def upgrade() -> None:
    # A plain ADD COLUMN on both databases, never SQLite's copy of the whole table: the copy
    # would drop the triggers that migrations 0003 and 0005 put on it. The server default
    # stays (SQLite cannot drop it in place); the model always sets the value itself.
    op.add_column(
        "users",
        sa.Column("email_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.get_bind().execute(_users.update().values(email_verified=True))


def downgrade() -> None:
    # SQLite 3.35 and later drop a column in place (no copy, so the triggers stay).
    op.drop_column("users", "email_verified")
