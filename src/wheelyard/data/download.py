from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import BigIntegerKey, SqlAlchemyBase, created_date_column


class Download(SqlAlchemyBase):
    """One served file download (`pip install` fetched a file): the raw analytics row.

    Besides what was served to whom, the row keeps the categories the daily rollups count it
    under, so that rebuilding the rollups is a GROUP BY, and still gives the same counts after
    the release or file it names has been deleted. ``installer`` is NULL only on rows that
    were stored before it existed (or imported raw); ``wheelyard stats rebuild`` fills them.
    """

    __tablename__ = "downloads"
    __table_args__ = (
        # Only the rows still to classify: empty in normal operation, so the recorder pays
        # nothing for it, while rebuilds and prunes find leftovers without scanning.
        sa.Index(
            "ix_downloads_unclassified",
            "created_date",
            sqlite_where=sa.text("installer IS NULL"),
            postgresql_where=sa.text("installer IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Deleting a file or release keeps its download history; the link is cleared.
    release_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("releases.id", ondelete="SET NULL"), index=True
    )
    file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("release_files.id", ondelete="SET NULL"), index=True
    )
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(1024))
    version: Mapped[str | None] = mapped_column(sa.String(100))
    packagetype: Mapped[str | None] = mapped_column(sa.String(32))
    installer: Mapped[str | None] = mapped_column(sa.String(32))
    python_minor: Mapped[str | None] = mapped_column(sa.String(16))
    system: Mapped[str | None] = mapped_column(sa.String(32))
    is_mirror: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
