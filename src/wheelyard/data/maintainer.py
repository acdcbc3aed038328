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
    """A role on a project, highest first: owners manage, maintainers upload, readers install."""

    OWNER = "Owner"
    MAINTAINER = "Maintainer"
    READER = "Reader"

    @property
    def rank(self) -> int:
        """Higher for a role that may do more; each role may do all a lower one may."""
        return len(_ORDER) - _ORDER.index(self)

    @property
    def may_upload(self) -> bool:
        return self.rank >= Role.MAINTAINER.rank


_ORDER = list(Role)


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
