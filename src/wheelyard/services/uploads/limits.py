"""How fast one account may upload: files per minute, new projects per hour.

The counts come from the rows the uploads themselves wrote, not from a worker's memory:
``release_files`` (created_date is the upload time, uploaded_by the account) for files and
the journal's "create" entries (by user) for new projects, since a project row records no
creator. So every worker and every node of one index sees the same numbers, a restart grants
no fresh allowance, and nothing extra is written. Both are range scans of an indexed
created_date over a minute or an hour. Two uploads committing at the same instant on
PostgreSQL may both pass the last free slot; the limit is a brake, not an exact quota.

The limit is per account. A token acts for exactly one account, and the account's count
holds every file any of its tokens (or its password) uploaded, so the account limit is also
each token's: a separate per-token count with the same numbers could never be reached first.
The operator's imports (no uploader) are not limited.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.journal import JournalEntry
from wheelyard.data.modelbase import utcnow
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import journal
from wheelyard.services.uploads.errors import UploadError

_MINUTE = dt.timedelta(minutes=1)
_HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class UploadLimits:
    """Settings.upload_files_per_minute and new_projects_per_hour; 0 is unlimited."""

    files_per_minute: int = 0
    new_projects_per_hour: int = 0


UNLIMITED = UploadLimits()


def check_upload_rate(
    db: Session, limits: UploadLimits, user_id: int | None, *, new_project: bool
) -> None:
    """UploadError (429, with a retry-after) when one more file, or one more project, from
    ``user_id`` would pass its limit."""
    if user_id is None:
        return
    if limits.files_per_minute > 0:
        files = sa.select(ReleaseFile.created_date).where(ReleaseFile.uploaded_by == user_id)
        wait = _wait(db, files, ReleaseFile.created_date, _MINUTE, limits.files_per_minute)
        if wait is not None:
            raise UploadError(
                f"Too many uploads: this account may upload {limits.files_per_minute} files "
                f"a minute. Try again in {wait} seconds.",
                status=429,
                retry_after=wait,
            )
    if new_project and limits.new_projects_per_hour > 0:
        created = sa.select(JournalEntry.created_date).where(
            JournalEntry.user_id == user_id, JournalEntry.action == journal.Action.CREATE
        )
        wait = _wait(db, created, JournalEntry.created_date, _HOUR, limits.new_projects_per_hour)
        if wait is not None:
            raise UploadError(
                f"Too many new projects: this account may create {limits.new_projects_per_hour} "
                f"projects an hour. Try again in {wait} seconds.",
                status=429,
                retry_after=wait,
            )


def _wait(
    db: Session,
    rows: sa.Select[dt.datetime],
    stamp: sa.orm.InstrumentedAttribute[dt.datetime],
    window: dt.timedelta,
    allowed: int,
) -> int | None:
    """Seconds until the window holds fewer than ``allowed`` rows; None if it already does."""
    now = db.scalar(sa.select(utcnow()))
    if not isinstance(now, dt.datetime):
        raise TypeError(f"the database clock answered {now!r}")
    # The newest `allowed` rows in the window: when the oldest of them leaves, a slot opens.
    recent = db.scalars(
        rows.where(stamp >= now - window).order_by(stamp.desc()).limit(allowed)
    ).all()
    if len(recent) < allowed:
        return None
    return max(1, math.ceil((recent[-1] + window - now).total_seconds()))
