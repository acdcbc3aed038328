from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class PublisherToken(SqlAlchemyBase):
    """A short-lived upload token minted for a CI job from its OIDC identity.

    It belongs to no account: it holds the job's verified claims, and an upload with it may
    reach a project only while one of that project's publishers matches them.
    """

    __tablename__ = "publisher_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    # sha256 of the whole token, as for API tokens.
    hashed_secret: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    issuer: Mapped[str] = mapped_column(sa.String(512), nullable=False)
    claims: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    expires: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, index=True)
