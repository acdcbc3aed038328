from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class TeamMember(SqlAlchemyBase):
    """The teams <-> users many-to-many: who belongs to which team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed on its own: every role check asks for the teams of one user.
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_date: Mapped[dt.datetime] = created_date_column()
