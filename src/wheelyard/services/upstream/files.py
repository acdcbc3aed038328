"""Upstream files fetched on first download: checked against the page's sha256, then kept.

The bytes go to a temporary file while their digests are computed; only when the sha256 is
the one the upstream page promised are they put into our storage (at their content path,
PyPI's layout, as uploads are) and a row written. A mismatch keeps nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wheelyard.data.upstream_file import UpstreamFile as StoredRow
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.services.upstream.pages import CachedPage, find_file
from wheelyard.services.upstream.sources import Upstream
from wheelyard.storage.base import FileStorage, content_path

# Larger than any distribution PyPI accepts; a bigger body is not a file we would keep.
MAX_FILE_BYTES = 4 * 1024**3
CHUNK_SIZE = 1024 * 1024


class FetchFailed(Exception):
    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    sha256: str
    size: int
    storage_path: str


@dataclass(frozen=True, slots=True)
class Wanted:
    """What to fetch for a filename served under a cached page: URL and promised digest."""

    filename: str
    url: str
    sha256: str


def wanted(page: CachedPage, filename: str) -> Wanted | None:
    """The file (or the ``.metadata`` of one) the page lists under ``filename``."""
    if filename.endswith(METADATA_SUFFIX):
        dist = find_file(page, filename.removesuffix(METADATA_SUFFIX))
        if dist is None or dist.metadata_sha256 is None:
            return None
        return Wanted(filename, dist.url + METADATA_SUFFIX, dist.metadata_sha256)
    found = find_file(page, filename)
    return Wanted(filename, found.url, found.sha256) if found is not None else None


def stored(db: Session, filename: str) -> StoredFile | None:
    row = db.scalars(sa.select(StoredRow).where(StoredRow.filename == filename)).one_or_none()
    if row is None:
        return None
    return StoredFile(row.filename, row.sha256_digest, row.size, row.storage_path)


def auth_for(url: str, upstream: Upstream | None) -> tuple[str, str] | None:
    """The upstream's credentials, sent only to the upstream's own origin."""
    if upstream is None or upstream.auth is None:
        return None
    ours, theirs = urlsplit(upstream.url), urlsplit(url)
    same = (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)
    return upstream.auth if same else None


def fetch(
    http: httpx2.Client, storage: FileStorage, want: Wanted, upstream: Upstream | None
) -> StoredFile:
    """The file fetched, checked and put into storage; raises FetchFailed."""
    sha256, blake2 = hashlib.sha256(), hashlib.blake2b(digest_size=32)
    size = 0
    with tempfile.TemporaryFile() as temp:
        try:
            with http.stream("GET", want.url, auth=auth_for(want.url, upstream)) as response:
                if response.status_code != 200:
                    raise FetchFailed(f"{want.url} answered {response.status_code}")
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        raise FetchFailed(f"{want.url} is larger than {MAX_FILE_BYTES} bytes")
                    sha256.update(chunk)
                    blake2.update(chunk)
                    temp.write(chunk)
        except httpx2.TimeoutException:
            raise FetchFailed(f"{want.url} did not answer in time", timed_out=True) from None
        except httpx2.HTTPError as error:
            raise FetchFailed(f"{want.url} unreachable: {type(error).__name__}") from None
        if sha256.hexdigest() != want.sha256:
            raise FetchFailed(
                f"{want.filename} from the upstream has sha256 {sha256.hexdigest()}, "
                f"but its page says {want.sha256}: refused, nothing kept"
            )
        temp.seek(0)
        path = content_path(blake2.hexdigest(), want.filename)
        storage.put(path, temp)
    return StoredFile(want.filename, want.sha256, size, path)


def record(db: Session, project_id: str, file: StoredFile, now: dt.datetime) -> None:
    """The row that makes later downloads come from storage; a twin from another worker or
    node that fetched the same file at once is kept instead."""
    try:
        with db.begin_nested():
            db.add(
                StoredRow(
                    project_id=project_id,
                    filename=file.filename,
                    sha256_digest=file.sha256,
                    size=file.size,
                    storage_path=file.storage_path,
                    last_used_date=now,
                )
            )
    except IntegrityError:
        pass


def mark_used(db: Session, filename: str, now: dt.datetime) -> None:
    """A download got the file at ``now`` (naive UTC); what cache eviction goes by."""
    db.execute(
        sa.update(StoredRow)
        .where(StoredRow.filename == filename)
        .where(sa.or_(StoredRow.last_used_date.is_(None), StoredRow.last_used_date < now))
        .values(last_used_date=now)
    )


def storage_paths(db: Session) -> list[str]:
    """Every blob the cache keeps (for the storage sweep, which must leave them alone)."""
    return list(db.scalars(sa.select(StoredRow.storage_path)))
