"""The sitemap protocol (sitemaps.org): the home page and every project page.

One sitemap file may hold at most 50,000 URLs. Below that, ``/sitemap.xml`` is the whole
map; above it, ``/sitemap.xml`` becomes an index of numbered files that each hold a slice.
Positions count the home page as 0 and the projects, by name, from 1.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.package import Package
from wheelyard.services.access.visibility import public_only

MAX_URLS_PER_SITEMAP = 50_000
_XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@dataclass(frozen=True)
class Entry:
    path: str
    last_modified: dt.datetime | None = None


def _url_count(db: Session) -> int:
    query = sa.select(sa.func.count()).select_from(Package).where(public_only())
    return 1 + (db.scalar(query) or 0)


def file_count(db: Session, per_file: int = MAX_URLS_PER_SITEMAP) -> int:
    """How many sitemap files the index needs; 1 means no index is needed."""
    return math.ceil(_url_count(db) / per_file)


def entries(
    db: Session,
    number: int,
    project_path: Callable[[str], str],
    per_file: int = MAX_URLS_PER_SITEMAP,
) -> list[Entry]:
    """The entries of sitemap file ``number`` (from 1); ``project_path`` maps an id to a path
    (the web layer owns its URLs)."""
    start, stop = (number - 1) * per_file, number * per_file
    listed: list[Entry] = [Entry("/")] if start == 0 else []
    # Position p >= 1 is project p - 1.
    first_project = max(start - 1, 0)
    query = (
        sa.select(Package.id, Package.last_updated, Package.created_date)
        .where(public_only())
        .order_by(Package.id)
        .offset(first_project)
        .limit(stop - 1 - first_project)
    )
    for package_id, last_updated, created in db.execute(query):
        listed.append(Entry(project_path(package_id), last_updated or created))
    return listed


def urlset(base_url: str, listed: Iterable[Entry]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{_XMLNS}">']
    for entry in listed:
        lastmod = ""
        if entry.last_modified is not None:
            lastmod = f"<lastmod>{entry.last_modified.date().isoformat()}</lastmod>"
        lines.append(f"<url><loc>{escape(base_url + entry.path)}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def sitemap_index(base_url: str, file_paths: Iterable[str]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{_XMLNS}">']
    for path in file_paths:
        lines.append(f"<sitemap><loc>{escape(base_url + path)}</loc></sitemap>")
    lines.append("</sitemapindex>")
    return "\n".join(lines) + "\n"
