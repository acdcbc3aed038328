from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class SiteFlag(SqlAlchemyBase):
    """One setting of the whole site that administrators change while it runs (read-only
    mode, registration, two-factor for uploaders). In the database, not the environment,
    so every worker on every machine reads the same value (services/site/flags.py)."""

    __tablename__ = "site_flags"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    value: Mapped[str] = mapped_column(sa.Text, nullable=False)
