"""Garbage collection of file storage: removing blobs that no release_files row refers to.

Orphans come from a crash between an upload storing its blobs and committing its rows
(``services.uploads.register`` writes blobs after flushing the rows, before the commit), and from
deleted files whose PEP 658 ``.metadata`` blob stays behind. They are harmless (nothing
links to them, and the file handler serves only paths a row names) but take space.

A blob is referenced when a row's ``storage_path`` names it, or names the distribution it
is the ``.metadata`` of. Everything else is an orphan once it is older than ``min_age``:
an upload in flight has stored its blob but not yet committed its row, and putting an
existing blob again (an upload claiming a crashed upload's orphan) makes it young. Each
orphan is checked once more just before it goes: no row names it now, and it is still old.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.ops import schema
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.services.upstream import files as upstream_files
from wheelyard.storage.base import FileStorage, StorageError, StoredBlob

# Far longer than any upload takes between storing its blob and committing its row.
DEFAULT_MIN_AGE = dt.timedelta(hours=1)


class NoSchema(Exception):
    """The database holds no wheelyard schema: collecting would take every blob for an orphan."""


@dataclass(frozen=True)
class Survey:
    """What a look at the storage found."""

    orphans: tuple[StoredBlob, ...]  # named by no row and older than the minimum age
    young: int  # named by no row but younger: perhaps an upload under way
    referenced: int  # named by a row

    @property
    def orphan_bytes(self) -> int:
        return sum(blob.size for blob in self.orphans)


def referenced_paths(db: Session) -> set[str]:
    """Every storage path a release_files row refers to, the ``.metadata`` beside it included."""
    _require_schema(db)
    paths: set[str] = set()
    for path in db.scalars(
        sa.select(ReleaseFile.storage_path).where(ReleaseFile.storage_path.is_not(None))
    ):
        if path is not None:
            paths.add(path)
            paths.add(path + METADATA_SUFFIX)
    # The pull-through cache's blobs have no release_files row but are just as wanted.
    paths.update(upstream_files.storage_paths(db))
    return paths


def _require_schema(db: Session) -> None:
    # A wrong database URL (an empty database) must not make every blob an orphan.
    if schema.current_revision(db.connection()) is None:
        raise NoSchema(
            "the database holds no wheelyard schema; check WHEELYARD_DATABASE_URL before "
            "collecting garbage"
        )


def survey(db: Session, storage: FileStorage, cutoff: dt.datetime) -> Survey:
    """The blobs no row refers to that were last written before ``cutoff`` (aware UTC)."""
    referenced = referenced_paths(db)
    return classify(storage.iter_blobs(), referenced, cutoff)


def classify(blobs: Iterable[StoredBlob], referenced: set[str], cutoff: dt.datetime) -> Survey:
    orphans: list[StoredBlob] = []
    young = kept = 0
    for blob in blobs:
        if blob.path in referenced:
            kept += 1
        elif blob.modified < cutoff:
            orphans.append(blob)
        else:
            young += 1
    return Survey(tuple(orphans), young, kept)


def is_referenced(db: Session, path: str) -> bool:
    """Whether a row refers to ``path`` now (as the file or as its ``.metadata``)."""
    names = [path]
    if path.endswith(METADATA_SUFFIX):
        names.append(path.removesuffix(METADATA_SUFFIX))
    query = sa.select(ReleaseFile.id).where(ReleaseFile.storage_path.in_(names)).limit(1)
    return db.scalar(query) is not None


def remove_orphan(db: Session, storage: FileStorage, path: str, cutoff: dt.datetime) -> bool:
    """Delete the blob at ``path`` if it is still an orphan; whether it was deleted.

    The row is looked for first and the age second: an upload puts (and so renews) its blob
    before it commits, so a blob still old after no row was found had no upload claiming it
    then. What is left is the moment between reading the age and deleting, in which an
    upload of that very file would have to put it.
    """
    if is_referenced(db, path):
        return False
    try:
        modified = storage.modified(path)
    except StorageError:
        return False  # gone already
    if modified >= cutoff:
        return False
    storage.delete(path)
    return True
