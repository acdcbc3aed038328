from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.api_token import ApiToken
    from wheelyard.data.maintainer import Maintainer
    from wheelyard.data.package import Package


class User(SqlAlchemyBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    # Stored lower-cased (see services.accounts.users) so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(sa.String(320), nullable=False, unique=True, index=True)
    # An argon2id hash, never a password. None: the account cannot log in until one is set
    # (imported authors and maintainers start this way).
    hashed_password: Mapped[str | None] = mapped_column(sa.String(256))
    profile_image_url: Mapped[str | None] = mapped_column(sa.String(1024))
    last_login: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, index=True)
    is_active: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true()
    )
    is_admin: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    # The account followed a link mailed to its address (or an operator made it). While the
    # index has a mail server, uploads need it: see services/accounts/email_verification.py.
    email_verified: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    # Sessions carry this value and count only while it matches. A random value rather than a
    # counter: a deleted account's id can be reused, and its old cookies must not fit the new
    # account. None until the first session; replaced to end every session at once.
    session_generation: Mapped[str | None] = mapped_column(sa.String(64))
    # The TOTP secret once two-factor login is on; None while it is off. It must be readable
    # to check codes, so it cannot be hashed: it is sealed (services/accounts/sealed.py)
    # under a key derived from the secret key; a plain base32 one is from before sealing.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    # A secret being set up, not yet confirmed by a code from the authenticator app; sealed.
    totp_pending_secret: Mapped[str | None] = mapped_column(sa.String(255))
    # The time step of the last code accepted, so a code seen once cannot be replayed.
    totp_last_counter: Mapped[int | None] = mapped_column(sa.BigInteger)

    maintainer_links: Mapped[list[Maintainer]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    packages: Mapped[list[Package]] = relationship(
        secondary="maintainers", viewonly=True, order_by="Package.id"
    )
    api_tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
