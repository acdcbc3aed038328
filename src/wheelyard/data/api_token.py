from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.user import User


class TokenScope(enum.StrEnum):
    """What a token may do: read (install) only, or upload as well."""

    READ = "read"
    UPLOAD = "upload"


class ApiToken(SqlAlchemyBase):
    """A credential for installs and uploads. The secret is shown once; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    # sha256 of the whole token: tokens carry 256 random bits, so a slow hash adds nothing,
    # and a unique index makes the lookup O(1).
    hashed_secret: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    # None: valid for all of the user's projects; otherwise only for this one.
    package_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), index=True
    )
    # Tokens made before scopes existed could upload: they keep that.
    scope: Mapped[TokenScope] = mapped_column(
        sa.Enum(
            TokenScope, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        nullable=False,
        default=TokenScope.UPLOAD,
        server_default=TokenScope.UPLOAD.value,
    )
    expires: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    last_used: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    user: Mapped[User] = relationship(back_populates="api_tokens")
