from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class RetentionRule(SqlAlchemyBase):
    """How long a project's (or, with no project, every project's) pre-releases stay.

    ``wheelyard cleanup`` removes the pre-releases and dev releases older than ``days``
    beyond the newest ``keep`` of them. A project's own rule overrides the site-wide one.
    One rule per project, and one site-wide: the service replaces a rule rather than adds
    a second (a unique constraint would not stop two site-wide rows, as NULLs differ).
    """

    __tablename__ = "retention_rules"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    # The project's normalized name; None for the site-wide rule.
    project_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), unique=True
    )
    days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    keep: Mapped[int] = mapped_column(sa.Integer, nullable=False)
