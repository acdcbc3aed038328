from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.package import Package


class Language(SqlAlchemyBase):
    """A programming language ("Python 3", "Cython"); the name is the key, saving a join."""

    __tablename__ = "languages"

    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    description: Mapped[str | None] = mapped_column(sa.Text)

    packages: Mapped[list[Package]] = relationship(
        secondary="package_languages", back_populates="languages", order_by="Package.id"
    )
