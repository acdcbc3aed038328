from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase


class IndexCount(SqlAlchemyBase):
    """The index's running totals, kept by database triggers (migration 0005).

    The totals are the sums over all slots: 16 rows, over which PostgreSQL writers spread by
    transaction id so that concurrent uploads rarely wait for each other's commit (SQLite has
    one writer at a time and uses slot 0). Every insert or delete of a project, release,
    file or user adjusts one slot in the same transaction, bulk loaders included, so the
    home page reads a handful of rows instead of counting millions.
    """

    __tablename__ = "index_counts"

    slot: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    projects: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0")
    releases: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0")
    files: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0")
    users: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0")
    total_size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0")
