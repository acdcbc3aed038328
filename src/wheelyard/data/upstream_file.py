from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class UpstreamFile(SqlAlchemyBase):
    """An upstream file (or its core metadata) fetched once, checked and kept in our storage.

    A row is written only after the bytes matched the upstream page's sha256 and were stored,
    so a row always means "served from here from now on". The unique filename makes two
    workers that fetched the same file at once keep one row.
    """

    __tablename__ = "upstream_files"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    project_id: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    # The distribution's filename, or that plus ".metadata" for its core metadata.
    filename: Mapped[str] = mapped_column(sa.String(520), nullable=False, unique=True)
    sha256_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    storage_path: Mapped[str] = mapped_column(sa.String(1024), nullable=False)
    # When a download last got the file (written at most every few minutes per worker,
    # api/upstream_files.py): `wheelyard cache prune` removes the longest unused first.
    last_used_date: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, index=True)
