from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class Team(SqlAlchemyBase):
    """A named group of users that holds roles on projects (team_members, team_roles)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    # The name normalized as project names are (PEP 503): "Data_Team" and "data-team" are one.
    normalized: Mapped[str] = mapped_column(sa.String(50), nullable=False, unique=True)
    created_date: Mapped[dt.datetime] = created_date_column()
