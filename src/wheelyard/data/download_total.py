from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class DownloadTotal(SqlAlchemyBase):
    """Downloads of every project together on one UTC day, mirrors apart.

    The site's figures (``/stats/``: today, this week, this month, the daily chart) would
    otherwise sum ``download_counts`` over every project downloaded in the period: millions
    of rows at PyPI's size. Kept by the same writers as the other rollups. A deleted
    project's downloads stay counted here (they happened), though its own rows go with it;
    a rebuild of a day counts the raw rows that are left.
    """

    __tablename__ = "download_totals"

    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    is_mirror: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True)
    downloads: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    created_date: Mapped[dt.datetime] = created_date_column()
