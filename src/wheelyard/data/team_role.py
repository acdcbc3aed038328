from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.maintainer import Role
from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class TeamRole(SqlAlchemyBase):
    """The teams <-> packages many-to-many, with the role every member holds on the package."""

    __tablename__ = "team_roles"

    team_id: Mapped[int] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    created_date: Mapped[dt.datetime] = created_date_column()
