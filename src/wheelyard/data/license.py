from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.package import Package


class License(SqlAlchemyBase):
    """A license by its clean name ("MIT", "Apache-2.0"), which is also its key."""

    __tablename__ = "licenses"

    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    description: Mapped[str | None] = mapped_column(sa.Text)

    packages: Mapped[list[Package]] = relationship(back_populates="license", order_by="Package.id")
