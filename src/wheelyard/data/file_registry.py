from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class FileRegistry(SqlAlchemyBase):
    """Every filename ever accepted. Kept after deletion so a filename is never reused."""

    __tablename__ = "file_registry"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    filename: Mapped[str] = mapped_column(sa.String(512), nullable=False, unique=True)
