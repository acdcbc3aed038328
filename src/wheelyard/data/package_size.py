from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase


class PackageSize(SqlAlchemyBase):
    """Bytes of all files of one package, kept by database triggers (migration 0005).

    One row per package, made when the package is inserted; the index on ``size`` answers
    "the biggest projects" without summing every file.
    """

    __tablename__ = "package_sizes"

    # Not a foreign key: the triggers remove the row with its package, and on PostgreSQL a
    # key check here would refuse the size updates a project's removal cascades into.
    package_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0", index=True)
