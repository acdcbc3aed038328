from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class DownloadCount(SqlAlchemyBase):
    """Downloads of one project on one UTC day, mirrors apart: totals, charts, top projects.

    Kept forever (raw rows are pruned) and updated in the transaction that stores the raw
    rows, so every stats page reads a few hundred rows however many downloads there were.
    """

    __tablename__ = "download_counts"

    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    # Site-wide questions (top projects, totals) range over days across every project.
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True, index=True)
    is_mirror: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True)
    # Not "count": rows would shadow it with tuple.count.
    downloads: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    created_date: Mapped[dt.datetime] = created_date_column()
