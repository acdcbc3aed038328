from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class RecoveryCode(SqlAlchemyBase):
    """A single-use code that stands in for the authenticator app; deleted once used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # sha256 of the code: codes carry 80 random bits, out of reach of guessing a fast hash,
    # and the unique index finds one in a single lookup.
    hashed_code: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
