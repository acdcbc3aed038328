from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class PasswordReset(SqlAlchemyBase):
    """An emailed password-reset link that has not been used yet.

    A row exists only while its link may still be used: using it, asking for a newer one and
    changing the password all delete it.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # sha256 of the token in the link: the token carries 256 random bits, so a slow hash adds
    # nothing, and whoever reads the table cannot use what it holds.
    hashed_token: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    expires: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False)
