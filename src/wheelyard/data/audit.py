from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import BigIntegerKey, SqlAlchemyBase, created_date_column


class AuditEvent(SqlAlchemyBase):
    """Who did what, from where: logins, tokens, uploads, role changes."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    # The trail outlives what it is about, so deletions only clear these links.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    package_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    detail: Mapped[str | None] = mapped_column(sa.Text)
