from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import BigIntegerKey, SqlAlchemyBase, created_date_column


class JournalEntry(SqlAlchemyBase):
    """One change to what the index serves. The id is the index's serial, as on PyPI.

    package_id is deliberately not a foreign key: the journal records removals too, and
    must outlive the project it speaks of.
    """

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    package_id: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    version: Mapped[str | None] = mapped_column(sa.String(100))
    filename: Mapped[str | None] = mapped_column(sa.String(512))
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
