"""Evicting cached upstream files: the least recently downloaded go first.

Only upstream files are ever evicted, never a local release's; their pages stay, so a later
download fetches the file again (and checks it again). The row goes before the blob: a file
whose row is gone is fetched anew, while a row whose blob were gone would answer 404s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.upstream_file import UpstreamFile
from wheelyard.storage.base import FileStorage


@dataclass(frozen=True, slots=True)
class Cached:
    filename: str
    storage_path: str
    size: int
    last_used: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Plan:
    total_bytes: int  # what the cache holds now
    evict: tuple[Cached, ...]  # least recently used first

    @property
    def evicted_bytes(self) -> int:
        return sum(file.size for file in self.evict)

    @property
    def kept_bytes(self) -> int:
        return self.total_bytes - self.evicted_bytes


def plan(db: Session, max_bytes: int | None, unused_before: dt.datetime | None) -> Plan:
    """The files to evict so that the cache holds at most ``max_bytes`` and nothing last
    used before ``unused_before`` (naive UTC); either may be None."""
    # A file never marked as used (none should be: a fetch marks it) counts as oldest.
    never = sa.case((UpstreamFile.last_used_date.is_(None), 0), else_=1)
    query = sa.select(
        UpstreamFile.filename,
        UpstreamFile.storage_path,
        UpstreamFile.size,
        UpstreamFile.last_used_date,
    ).order_by(never, UpstreamFile.last_used_date, UpstreamFile.id)
    cached = [Cached(*row) for row in db.execute(query)]
    total = sum(file.size for file in cached)
    left = total
    evict = []
    for file in cached:
        stale = unused_before is not None and (
            file.last_used is None or file.last_used < unused_before
        )
        too_big = max_bytes is not None and left > max_bytes
        if not (stale or too_big):
            continue
        evict.append(file)
        left -= file.size
    return Plan(total, tuple(evict))


def forget(db: Session, file: Cached) -> bool:
    """The file's row removed (unless it was used after the plan was made); whether it was.
    Commit before ``delete_blob``."""
    query = sa.delete(UpstreamFile).where(
        UpstreamFile.filename == file.filename,
        UpstreamFile.storage_path == file.storage_path,
    )
    if file.last_used is not None:
        # Downloaded meanwhile: no longer among the least recently used.
        query = query.where(UpstreamFile.last_used_date <= file.last_used)
    result = cast(sa.CursorResult[Any], db.execute(query))
    return result.rowcount > 0


def delete_blob(db: Session, storage: FileStorage, storage_path: str) -> bool:
    """The blob deleted unless a row refers to it again (a local release of the very same
    bytes and name, or a download that fetched the file anew meanwhile)."""
    for column in (ReleaseFile.storage_path, UpstreamFile.storage_path):
        if db.scalar(sa.select(sa.literal(1)).where(column == storage_path).limit(1)):
            return False
    storage.delete(storage_path)
    return True
