from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wheelyard.data.modelbase import SqlAlchemyBase, created_date_column


class UpstreamDocument(SqlAlchemyBase):
    """An upstream's JSON API document (``/pypi/<name>/json``) of a project we have no local
    project for: the cache of it, beside the simple page (upstream_pages) and revalidated the
    same way. ``body`` is the upstream's JSON as it came, with the upstream's file URLs; what
    we serve is rewritten from it (services/upstream/json_documents.py)."""

    __tablename__ = "upstream_documents"

    # The PEP 503 normalized name.
    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    created_date: Mapped[dt.datetime] = created_date_column()
    # The upstream index (its simple URL without credentials) whose JSON API answered.
    source: Mapped[str] = mapped_column(sa.String(1024), nullable=False)
    etag: Mapped[str | None] = mapped_column(sa.String(512))
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    # When the upstream last confirmed the document (a 200 or a 304).
    checked_date: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False)
