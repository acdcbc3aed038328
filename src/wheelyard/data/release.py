from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from wheelyard import versions
from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.package import Package
    from wheelyard.data.release_file import ReleaseFile
    from wheelyard.data.release_metadata import ReleaseMetadata


class Release(SqlAlchemyBase):
    """One version of a package. Setting ``version`` fills every column derived from it."""

    __tablename__ = "releases"
    __table_args__ = (sa.UniqueConstraint("package_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    package_id: Mapped[str] = mapped_column(
        sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    version: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    # Byte string whose order is PEP 440 order (see wheelyard.versions).
    sort_key: Mapped[bytes] = mapped_column(sa.LargeBinary(256), nullable=False, index=True)
    major_ver: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, index=True)
    minor_ver: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, index=True)
    build_ver: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, index=True)
    is_prerelease: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    url: Mapped[str | None] = mapped_column(sa.String(1024))
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    requires_python: Mapped[str | None] = mapped_column(sa.String(256))
    yanked: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    yanked_reason: Mapped[str | None] = mapped_column(sa.Text)

    package: Mapped[Package] = relationship(back_populates="releases")
    files: Mapped[list[ReleaseFile]] = relationship(
        back_populates="release",
        order_by="ReleaseFile.filename",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    # What this release was uploaded or imported with; None for releases made before 0018
    # whose metadata the project's columns did not describe.
    core_metadata: Mapped[ReleaseMetadata | None] = relationship(
        back_populates="release", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("version")
    def _derive_from_version(self, _key: str, text: str) -> str:
        parsed = versions.parse(text)
        self.sort_key = parsed.sort_key
        self.major_ver = parsed.major
        self.minor_ver = parsed.minor
        self.build_ver = parsed.build
        self.is_prerelease = parsed.is_prerelease
        return text

    def __repr__(self) -> str:
        return f"<Release {self.package_id} {self.version}>"
