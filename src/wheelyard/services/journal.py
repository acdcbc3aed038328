"""The journal: one row per change to what the index serves; its id is the serial.

Every change (new release, file added, yank, removal) records an entry in the same
transaction as the change, and the package's ``last_serial`` follows it. Clients see the
serial as ``X-PyPI-Last-Serial``; caches and mirrors ask for what changed since one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.journal import JournalEntry
from wheelyard.data.package import Package


class Action:
    CREATE = "create"
    NEW_RELEASE = "new release"
    ADD_FILE = "add file"
    REMOVE_FILE = "remove file"
    REMOVE_RELEASE = "remove release"
    REMOVE_PROJECT = "remove project"
    YANK = "yank release"
    UNYANK = "unyank release"
    ADD_MAINTAINER = "add maintainer"
    REMOVE_MAINTAINER = "remove maintainer"
    CHANGE_ROLE = "change role"
    # Drops every cached page, list chunk and file of the project on every worker.
    CHANGE_VISIBILITY = "change visibility"
    # PEP 792 status (archived, quarantined...): the simple pages and the list change too.
    CHANGE_STATUS = "change status"
    # An admin's transfer of a project to a new owner.
    TRANSFER_OWNERSHIP = "transfer ownership"


def record(
    db: Session,
    package: Package,
    action: str,
    *,
    version: str | None = None,
    filename: str | None = None,
    user_id: int | None = None,
) -> int:
    """Add a journal entry for ``package`` and return its serial."""
    entry = JournalEntry(
        package_id=package.id, action=action, version=version, filename=filename, user_id=user_id
    )
    db.add(entry)
    db.flush()
    # Concurrent writers on PostgreSQL may flush out of serial order; never move backwards.
    package.last_serial = max(package.last_serial or 0, entry.id)
    return entry.id


def last_serial(db: Session) -> int:
    """The newest serial of the whole index (0 when nothing has happened yet)."""
    return db.scalar(sa.select(sa.func.max(JournalEntry.id))) or 0


def entries_since(db: Session, serial: int) -> list[tuple[str, int]]:
    """(package id, serial) of every journal entry newer than ``serial``, oldest first.

    Plain rows, grouped by the caller: with a GROUP BY or DISTINCT, SQLite prefers to walk
    the whole ``package_id`` index (all 9,000,000 entries at PyPI's size, 0.4 s, every second
    in every worker) over reading the few newest rows by serial.
    """
    query = (
        sa.select(JournalEntry.package_id, JournalEntry.id)
        .where(JournalEntry.id > serial)
        .order_by(JournalEntry.id)
    )
    return [(package_id, entry) for package_id, entry in db.execute(query)]


def changed_since(db: Session, serial: int) -> set[str]:
    """Ids of the packages with a journal entry newer than ``serial``."""
    return {package_id for package_id, _entry in entries_since(db, serial)}
