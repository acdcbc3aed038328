from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.release import Release


class ReleaseFile(SqlAlchemyBase):
    """A distribution file (wheel or sdist) of a release. created_date is its upload time."""

    __tablename__ = "release_files"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    release_id: Mapped[int] = mapped_column(
        sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(512), nullable=False, unique=True)
    packagetype: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    python_version: Mapped[str | None] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    sha256_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    blake2_256_digest: Mapped[str | None] = mapped_column(sa.String(64))
    md5_digest: Mapped[str | None] = mapped_column(sa.String(32))
    requires_python: Mapped[str | None] = mapped_column(sa.String(256))
    # sha256 of the wheel's METADATA served beside it (PEP 658); None when not extracted.
    metadata_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    # Where the blob lives in file storage; None for files only known by URL (imports).
    storage_path: Mapped[str | None] = mapped_column(sa.String(1024))
    # Where the file can be fetched when it is not in our storage (imported PyPI metadata).
    url: Mapped[str | None] = mapped_column(sa.String(1024))
    uploaded_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    # Uploaded by a trusted publisher: where from ("published from OWNER/REPO by release.yml").
    published_from: Mapped[str | None] = mapped_column(sa.String(512))

    release: Mapped[Release] = relationship(back_populates="files")

    def __repr__(self) -> str:
        return f"<ReleaseFile {self.filename}>"
