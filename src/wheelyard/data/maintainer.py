from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.package import Package
    from wheelyard.data.user import User


class Role(enum.StrEnum):
    OWNER = "Owner"
    MAINTAINER = "Maintainer"


class Maintainer(SqlAlchemyBase):
    """The users <-> packages many-to-many, with the user's role on the package."""

    __tablename__ = "maintainers"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
        default=Role.MAINTAINER,
    )
    created_date: Mapped[dt.datetime] = created_date_column()

    user: Mapped[User] = relationship(back_populates="maintainer_links")
    package: Mapped[Package] = relationship(back_populates="maintainer_links")
