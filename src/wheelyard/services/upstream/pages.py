"""The cached upstream pages: kept in the database, and turned into our own page's context.

A cached page is served for ``WHEELYARD_UPSTREAM_TTL`` seconds, then revalidated. File URLs
point at wheelyard (``/packages/upstream/<project>/<filename>``), never at the upstream,
so a client of ours needs to reach only us; hashes and the rest are kept as the upstream
gave them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.upsert import dialect_insert
from wheelyard.data.upstream_page import UpstreamPage
from wheelyard.services.index.project_page import (
    PROJECT_PAGE_ROOT,
    IndexedFile,
    ProjectDetail,
    relative_url,
)
from wheelyard.services.upstream.documents import UpstreamFile, UpstreamListing
from wheelyard.services.upstream.fetch import Fetched, Known, Missing, Unchanged

FILES_PREFIX = "/packages/upstream/"


@dataclass(frozen=True, slots=True)
class CachedPage:
    project_id: str
    source: str
    etag: str | None
    listing: UpstreamListing
    checked: dt.datetime

    @property
    def known(self) -> Known:
        return Known(self.source, self.etag)

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.checked

    def is_fresh(self, ttl_seconds: int, now: dt.datetime) -> bool:
        return self.age(now) < dt.timedelta(seconds=ttl_seconds)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _of(row: UpstreamPage) -> CachedPage:
    return CachedPage(
        row.id, row.source, row.etag, UpstreamListing.from_json(row.listing), row.checked_date
    )


def cached(db: Session, project_id: str) -> CachedPage | None:
    row = db.get(UpstreamPage, project_id)
    return _of(row) if row is not None else None


def store(db: Session, project_id: str, fetched: Fetched, now: dt.datetime) -> CachedPage:
    """Keep the page just fetched, in place of any older copy.

    One upsert: workers and nodes that fetched the same page at once each write it, and the
    last one stays, instead of all but the first failing on the primary key.
    """
    checked = _naive_utc(now)
    values = {
        "source": fetched.source,
        "etag": fetched.etag,
        "listing": fetched.listing.to_json(),
        "checked_date": checked,
    }
    insert = dialect_insert(db, UpstreamPage).values(id=project_id, **values)
    db.execute(insert.on_conflict_do_update(index_elements=["id"], set_=values))
    # The session may hold the row from an earlier read; it must not answer from that copy.
    held = db.identity_map.get(db.identity_key(UpstreamPage, project_id))
    if held is not None:
        db.expire(held)
    return CachedPage(project_id, fetched.source, fetched.etag, fetched.listing, checked)


def confirm(db: Session, project_id: str, now: dt.datetime) -> None:
    """The upstream says the cached page is still current (a 304)."""
    db.execute(
        sa.update(UpstreamPage)
        .where(UpstreamPage.id == project_id)
        .values(checked_date=_naive_utc(now))
    )


def forget(db: Session, project_id: str) -> None:
    """The upstream no longer has the project: neither do we."""
    db.execute(sa.delete(UpstreamPage).where(UpstreamPage.id == project_id))


def settle(
    db: Session,
    project_id: str,
    outcome: Fetched | Unchanged | Missing,
    page: CachedPage | None,
    now: dt.datetime,
) -> CachedPage | None:
    """The cache brought in line with what the upstreams answered: the page now (None: they
    no longer have the project). ``page`` is the copy that was revalidated."""
    if isinstance(outcome, Fetched):
        return store(db, project_id, outcome, now)
    if isinstance(outcome, Unchanged):
        confirm(db, project_id, now)
        return page
    forget(db, project_id)
    return None


def file_url(project_id: str, filename: str) -> str:
    return f"{FILES_PREFIX}{project_id}/{quote(filename, safe='+!')}"


def _upload_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return _naive_utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _indexed(project_id: str, file: UpstreamFile, root: str) -> IndexedFile:
    return IndexedFile(
        filename=file.filename,
        url=relative_url(file_url(project_id, file.filename), root),
        sha256=file.sha256,
        requires_python=file.requires_python,
        yanked=file.yanked,
        yanked_reason=file.yanked_reason,
        size=file.size,
        upload_time=_upload_time(file.upload_time),
        metadata_sha256=file.metadata_sha256,
    )


def detail(page: CachedPage, root: str = PROJECT_PAGE_ROOT) -> ProjectDetail:
    """The context our simple page of the upstream project is rendered from."""
    return ProjectDetail(
        name=page.project_id,
        versions=page.listing.versions,
        files=tuple(_indexed(page.project_id, file, root) for file in page.listing.files),
        last_serial=0,
    )


def find_file(page: CachedPage, filename: str) -> UpstreamFile | None:
    return next((file for file in page.listing.files if file.filename == filename), None)
