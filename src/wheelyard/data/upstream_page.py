from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class UpstreamPage(SqlAlchemyBase):
    """An upstream index's page of a project we have no local project for: the cache of it.

    ``listing`` is the page read into files (services/upstream/documents.py), with the
    upstream's own file URLs; our pages are rendered from it. Kept across restarts, and
    served as it is when the upstream cannot be reached.
    """

    __tablename__ = "upstream_pages"

    # The PEP 503 normalized name.
    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    # The upstream index that answered (its URL without credentials) and its validator.
    source: Mapped[str] = mapped_column(sa.String(1024), nullable=False)
    etag: Mapped[str | None] = mapped_column(sa.String(512))
    listing: Mapped[str] = mapped_column(sa.Text, nullable=False)
    # When the upstream last confirmed the page (a 200 or a 304): its age is counted from it.
    checked_date: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False)
