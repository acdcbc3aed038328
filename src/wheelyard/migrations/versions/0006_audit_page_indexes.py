"""audit: indexes for one account's or one project's newest events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 11:30:00

The account page and the manage page list the newest rows of one user or one project. With
only ``user_id`` indexed, PostgreSQL walks the primary key backwards and skips everyone
else's rows until it has enough, which is slow when that user's or project's rows are old.
``(user_id, id)`` and ``(package_id, id)`` answer both at once and serve every lookup the
single-column indexes served, so those go.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_user_id_id", "audit", ["user_id", "id"])
    op.create_index("ix_audit_package_id_id", "audit", ["package_id", "id"])
    op.drop_index("ix_audit_user_id", table_name="audit")
    op.drop_index("ix_audit_package_id", table_name="audit")


def downgrade() -> None:
    op.create_index("ix_audit_package_id", "audit", ["package_id"])
    op.create_index("ix_audit_user_id", "audit", ["user_id"])
    op.drop_index("ix_audit_package_id_id", table_name="audit")
    op.drop_index("ix_audit_user_id_id", table_name="audit")
