from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class OidcUsedToken(SqlAlchemyBase):
    """A JWT's ``jti`` already exchanged for an upload token: each is accepted once.

    The primary key makes that hold across workers and nodes; a row is kept until the JWT it
    stands for has expired, and is worth nothing after.
    """

    __tablename__ = "oidc_used_tokens"

    issuer: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    jti: Mapped[str] = mapped_column(sa.String(256), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    expires: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, index=True)
