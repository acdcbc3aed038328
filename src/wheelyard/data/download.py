from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import BigIntegerKey, SqlAlchemyBase, created_date_column


class Download(SqlAlchemyBase):
    """One served file download (`pip install` fetched a file): the raw analytics row."""

    __tablename__ = "downloads"

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
