"""api_tokens: a scope, read (install only) or upload (upload and install)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00

A private index hands out tokens that may only install; every token made before is an
upload token and stays one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column(
                "scope",
                sa.Enum("read", "upload", name="tokenscope", native_enum=False, length=16),
                nullable=False,
                server_default="upload",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scope")
