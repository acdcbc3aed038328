from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class Dimension(StrEnum):
    """What a breakdown row counts by; the value is stored in ``dimension``."""

    VERSION = "version"  # the release's version
    PACKAGETYPE = "packagetype"  # bdist_wheel, sdist
    INSTALLER = "installer"  # one of services.analytics.user_agents.INSTALLERS
    PYTHON = "python"  # the minor version, "3.11"
    SYSTEM = "system"  # "Linux", "Darwin", "Windows", ... or "other"


class DownloadBreakdown(SqlAlchemyBase):
    """Downloads of one project on one UTC day by one dimension's category, mirrors apart.

    One row per (dimension, category) rather than one per combination of every dimension:
    the combinations multiply (versions x installers x Pythons x systems...) until the
    "rollup" is nearly as big as the raw rows, while each page asks about one dimension.
    ``category`` is "" where the client did not say (a key column cannot be NULL).
    """

    __tablename__ = "download_breakdowns"

    # Key order = the questions' order: one project, one dimension, a range of days.
    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    is_mirror: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True)
    downloads: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    created_date: Mapped[dt.datetime] = created_date_column()


class DownloadBreakdownMonth(SqlAlchemyBase):
    """``download_breakdowns`` summed by calendar month: the same rows, one per month.

    A breakdown over the last 180 days would otherwise read one row per category and day:
    180,000 rows for a project with 1,000 versions. With months, the whole months inside the
    period come from here and only the days at its start from the daily table (see
    services.analytics.stats), a few tens of rows per category. Kept in step with the daily rows by
    every writer (services.analytics.rollups), so ``downloads`` here always equals the sum of the
    month's daily rows.
    """

    __tablename__ = "download_breakdown_months"

    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    month: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)  # its first day
    category: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    is_mirror: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True)
    downloads: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    created_date: Mapped[dt.datetime] = created_date_column()
