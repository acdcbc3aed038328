from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class ProhibitedName(SqlAlchemyBase):
    """A project name no upload may create, with the reason the refusal gives."""

    __tablename__ = "prohibited_names"

    # The PEP 503 normalized name, so "Foo_Bar" and "foo-bar" are one entry.
    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
