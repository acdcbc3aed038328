from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class DownloadSpoolSegment(SqlAlchemyBase):
    """A spool segment whose downloads are in the database (services.analytics.spool).

    Inserted in the transaction that stores the segment's rows, so a segment file still on
    disk after a crash between that commit and its removal is not counted a second time.
    Segment names are never reused; markers older than a day are pruned.
    """

    __tablename__ = "download_spool_segments"

    name: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
