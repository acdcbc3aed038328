from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import BigIntegerKey, SqlAlchemyBase, created_date_column


class AuditEvent(SqlAlchemyBase):
    """Who did what, from where: logins, tokens, uploads, role changes."""

    __tablename__ = "audit"
    # The account and manage pages ask for one user's or one project's newest rows: with the
    # id beside the key they read just those, however old they are among everyone's rows.
    __table_args__ = (
        sa.Index("ix_audit_user_id_id", "user_id", "id"),
        sa.Index("ix_audit_package_id_id", "package_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    # The trail outlives what it is about, so deletions only clear these links.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    package_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    detail: Mapped[str | None] = mapped_column(sa.Text)
