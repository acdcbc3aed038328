from __future__ import annotations

import datetime as dt
import enum
import re
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column

if TYPE_CHECKING:
    from wheelyard.data.language import Language
    from wheelyard.data.license import License
    from wheelyard.data.maintainer import Maintainer
    from wheelyard.data.release import Release
    from wheelyard.data.user import User


_SEPARATORS = re.compile(r"[-_.]")
# What PyPI folds together when it compares names: letters that look like digits.
_LOOK_ALIKES = str.maketrans("lio", "110")


def ultranormalize_name(name: str) -> str:
    """``F-l.a_sk`` and ``f1ask`` -> ``f1ask``: PyPI's "ultranormalized" form of a name.

    Separators dropped, lower-cased, and ``l``/``i`` read as ``1`` and ``o`` as ``0``; two
    projects with the same form look alike to a reader. Kept here, beside the column it
    fills, because the data layer imports nothing above it.
    """
    return _SEPARATORS.sub("", name).lower().translate(_LOOK_ALIKES)


# A URL or an e-mail address in a README: "https://github.com/psf/requests", "<mailto:a@b>".
_README_LINK = re.compile(
    r"\b(?:[a-z][a-z0-9+.-]*://|mailto:|www\.)[^\s<>()\[\]\"'`]*", re.IGNORECASE
)
# A tsvector is limited to 1 MB; this much README stays below it whatever the text, and ranks
# as well as the whole would.
SEARCH_TEXT_LENGTH = 100_000


def search_text_of(description: str | None) -> str | None:
    """A README as the full-text index reads it: its links dropped, its length cut.

    Nearly every README links to its repository, its documentation and its badges, so the
    words of URLs ("http", "github", "com", "pypi") would make a search for them match nearly
    every project. Kept here, beside the column it fills, as ``ultranormalize_name`` is.
    """
    if description is None:
        return None
    return _README_LINK.sub(" ", description[: SEARCH_TEXT_LENGTH * 2])[:SEARCH_TEXT_LENGTH]


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    # Seen only by those with a role on the project (services/access/visibility.py).
    PRIVATE = "private"


class ProjectStatus(enum.StrEnum):
    """PEP 792's project status markers."""

    ACTIVE = "active"
    # No new files; the existing ones are served.
    ARCHIVED = "archived"
    # Like active; installers may warn that something else replaced it.
    DEPRECATED = "deprecated"
    # Set by site admins only: no uploads, no files served, not in the project list.
    QUARANTINED = "quarantined"


class Package(SqlAlchemyBase):
    """A project on the index. Its id is the PEP 503 normalized name."""

    __tablename__ = "packages"

    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    # The name as its owner spells it ("Flask"); id is what URLs and lookups use ("flask").
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    # ultranormalize_name(name), kept in step by _fill_ultranormalized: an indexed lookup
    # finds a look-alike of a new name (services/uploads/permission.py).
    ultranormalized: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    summary: Mapped[str | None] = mapped_column(sa.String(512))
    description: Mapped[str | None] = mapped_column(sa.Text)
    # The README as the full-text index reads it (search_text_of); set with the description.
    search_text: Mapped[str | None] = mapped_column(sa.Text)
    description_content_type: Mapped[str | None] = mapped_column(sa.String(128))
    # The README rendered once (at upload or import), so page views never run a renderer.
    description_html: Mapped[str | None] = mapped_column(sa.Text)
    keywords: Mapped[str | None] = mapped_column(sa.String(1024))
    home_page: Mapped[str | None] = mapped_column(sa.String(1024))
    docs_url: Mapped[str | None] = mapped_column(sa.String(1024))
    package_url: Mapped[str | None] = mapped_column(sa.String(1024))
    author_name: Mapped[str | None] = mapped_column(sa.String(512))
    author_email: Mapped[str | None] = mapped_column(sa.String(512), index=True)
    license_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("licenses.id", ondelete="SET NULL"), index=True
    )
    last_updated: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, index=True)
    visibility: Mapped[Visibility] = mapped_column(
        sa.Enum(
            Visibility,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=Visibility.PUBLIC,
        server_default=Visibility.PUBLIC.value,
        index=True,
    )
    status: Mapped[ProjectStatus] = mapped_column(
        sa.Enum(
            ProjectStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=ProjectStatus.ACTIVE,
        server_default=ProjectStatus.ACTIVE.value,
    )
    # Why, in the owner's or the admin's words (PEP 792's project-status-reason).
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The journal serial of the newest change to this project (X-PyPI-Last-Serial).
    last_serial: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, server_default="0")
    # Uploads to this project only from maintainers who log in with two factors.
    require_2fa: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )

    # Newest first in true PEP 440 order: sort_key bytes compare like packaging's Version.
    releases: Mapped[list[Release]] = relationship(
        back_populates="package",
        order_by="Release.sort_key.desc()",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    license: Mapped[License | None] = relationship(back_populates="packages")
    languages: Mapped[list[Language]] = relationship(
        secondary="package_languages", back_populates="packages", order_by="Language.id"
    )
    # The association rows carry the role; `maintainers` is the plain list of users.
    maintainer_links: Mapped[list[Maintainer]] = relationship(
        back_populates="package", cascade="all, delete-orphan", passive_deletes=True
    )
    maintainers: Mapped[list[User]] = relationship(
        secondary="maintainers", viewonly=True, order_by="User.name"
    )

    @validates("name")
    def _fill_ultranormalized(self, _key: str, name: str) -> str:
        self.ultranormalized = ultranormalize_name(name)
        return name

    @validates("description")
    def _fill_search_text(self, _key: str, description: str | None) -> str | None:
        self.search_text = search_text_of(description)
        return description

    def __repr__(self) -> str:
        return f"<Package {self.id}>"
