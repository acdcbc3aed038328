from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class DownloadRecent(SqlAlchemyBase):
    """Each project's downloads in the 30 days that end on ``DownloadWindow.last_day``.

    The top projects of the month are the largest of these, read through an index, where
    summing ``download_counts`` over 30 days would group millions of rows at PyPI's size.
    services.analytics.recent keeps the sums and moves the window on each new day.
    """

    __tablename__ = "download_recent"

    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    is_mirror: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True)
    downloads: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    created_date: Mapped[dt.datetime] = created_date_column()


# The top projects in the order they are listed: most downloads first, ties by name.
sa.Index(
    "ix_download_recent_top",
    DownloadRecent.is_mirror,
    DownloadRecent.downloads.desc(),
    DownloadRecent.package_id,
)


class DownloadWindow(SqlAlchemyBase):
    """The one row saying which 30 days ``download_recent`` sums: those ending on
    ``last_day``. Every writer of the rollups locks it, so the window moves in one piece."""

    __tablename__ = "download_window"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_day: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    created_date: Mapped[dt.datetime] = created_date_column()
