from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.release import Release


class ReleaseMetadata(SqlAlchemyBase):
    """The core metadata one release was uploaded (or imported) with, as PyPI keeps it.

    One row per release, written when the release is made and never overwritten by a later
    release: ``/project/<name>/<version>/`` and ``/pypi/<name>/<version>/json`` show it, and
    the project's page and document show the latest release's. Text columns are unbounded:
    uploads are held to their limits before they get here (services/uploads/policy.py), and
    an import keeps what PyPI kept. Lists and the label -> URL map are JSON.
    """

    __tablename__ = "release_metadata"

    release_id: Mapped[int] = mapped_column(
        sa.ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    created_date: Mapped[dt.datetime] = created_date_column()
    summary: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    description_content_type: Mapped[str | None] = mapped_column(sa.Text)
    # The README rendered once, when the row was written, so page views never run a renderer.
    description_html: Mapped[str | None] = mapped_column(sa.Text)
    keywords: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # Home-page and Download-URL as given; docs_url only from a PyPI document's own field.
    home_page: Mapped[str | None] = mapped_column(sa.Text)
    download_url: Mapped[str | None] = mapped_column(sa.Text)
    docs_url: Mapped[str | None] = mapped_column(sa.Text)
    # Every Project-URL, label -> URL, in the order the metadata lists them.
    project_urls: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    author: Mapped[str | None] = mapped_column(sa.Text)
    author_email: Mapped[str | None] = mapped_column(sa.Text)
    maintainer: Mapped[str | None] = mapped_column(sa.Text)
    maintainer_email: Mapped[str | None] = mapped_column(sa.Text)
    # The License field (free text) and PEP 639's License-Expression and License-File names.
    license: Mapped[str | None] = mapped_column(sa.Text)
    license_expression: Mapped[str | None] = mapped_column(sa.Text)
    license_files: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # The name the index files the license under (licenses.id), worked out from the three.
    license_name: Mapped[str | None] = mapped_column(sa.Text)
    classifiers: Mapped[list[str] | None] = mapped_column(sa.JSON)
    requires_dist: Mapped[list[str] | None] = mapped_column(sa.JSON)
    provides_extra: Mapped[list[str] | None] = mapped_column(sa.JSON)
    requires_python: Mapped[str | None] = mapped_column(sa.Text)
    platforms: Mapped[list[str] | None] = mapped_column(sa.JSON)
    dynamic: Mapped[list[str] | None] = mapped_column(sa.JSON)

    release: Mapped[Release] = relationship(back_populates="core_metadata")

    def __repr__(self) -> str:
        return f"<ReleaseMetadata {self.release_id}>"

    def fields(self) -> dict[str, Any]:
        """The row's metadata columns by name (not its keys), for copying into a view."""
        skip = {"release_id", "created_date"}
        return {
            column.key: getattr(self, column.key)
            for column in self.__table__.columns
            if column.key not in skip
        }
