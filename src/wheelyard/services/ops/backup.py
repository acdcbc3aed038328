"""``wheelyard backup DIR`` and ``wheelyard restore DIR``: a consistent snapshot, taken while
the server runs, and an empty index filled from one.

A backup directory holds:

- ``database.sqlite3``: every row, as of one moment. From SQLite, SQLite's online backup
  (``sqlite3.Connection.backup``, in one step: one read snapshot, writers go on meanwhile).
  From PostgreSQL, every row read in one serializable, read-only, deferrable transaction
  into a SQLite database built by the migrations (services/ops/db_copy.py), so one restore
  reads both.
- ``blobs.jsonl``: every blob those rows refer to (distributions, their ``.metadata``, the
  upstream cache's files), one JSON object a line: path, size, sha256.
- ``blobs/``: the blobs themselves, for local storage. With object storage they are
  referenced, not copied: the bucket keeps them (its own versioning or replication backs
  it up), and a restore checks that each is there.
- ``manifest.json``: when, from what, at which revision, the row counts, how blobs are kept.

Blobs are content-addressed and never overwritten, so copying them after the snapshot is
consistent: every blob a snapshotted row names was stored before its row was committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.db_session import create_engine
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.ops import db_copy, schema, storage_gc
from wheelyard.services.ops.db_copy import CopyRefused
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.storage.base import BlobMissing, FileStorage

FORMAT = 1
DATABASE = "database.sqlite3"
MANIFEST = "manifest.json"
BLOB_LIST = "blobs.jsonl"
BLOB_DIR = "blobs"
COPIED = "copied"
REFERENCED = "referenced"
CHUNK = 1024 * 1024

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot be made; the message says why."""


@dataclass(frozen=True)
class Blob:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Outcome:
    rows: dict[str, int]
    blobs: int
    blob_bytes: int


def _quiet(_message: str) -> None:
    return None


def _sqlite_path(url: sa.URL) -> Path | None:
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database))
    return None


def _refuse_used_directory(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new directory")


def backup(
    database_url: str,
    storage: FileStorage,
    directory: Path,
    *,
    copy_blobs: bool,
    progress: Progress = _quiet,
) -> Outcome:
    """A snapshot of the index into ``directory`` (new or empty)."""
    _refuse_used_directory(directory)
    directory.mkdir(parents=True, exist_ok=True)
    source = create_engine(database_url)
    try:
        with source.connect() as connection:
            try:
                revision = db_copy.require_revision(connection, "database")
            except CopyRefused as refused:
                raise BackupError(str(refused)) from None
        snapshot_path = directory / DATABASE
        if source.dialect.name == "sqlite":
            progress("copying the database with SQLite's online backup")
            _sqlite_backup(source, snapshot_path)
        else:
            progress("copying every row in one serializable read-only transaction")
            _rows_into_sqlite(source, snapshot_path)
        dialect = source.dialect.name
    finally:
        source.dispose()
    snapshot = create_engine(f"sqlite:///{snapshot_path}")
    try:
        with Session(snapshot) as db:
            rows = _row_counts(db.connection())
            wanted = _blobs_named(db)
    finally:
        snapshot.dispose()
    progress(f"{sum(rows.values()):,} rows; {len(wanted):,} blobs referenced")
    blobs = _save_blobs(storage, wanted, directory, copy_blobs=copy_blobs, progress=progress)
    manifest = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": dialect,
        "revision": revision,
        "blobs": COPIED if copy_blobs else REFERENCED,
        "rows": rows,
        "blob_count": len(blobs),
        "blob_bytes": sum(blob.size for blob in blobs),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Outcome(rows, len(blobs), sum(blob.size for blob in blobs))


def _sqlite_backup(source: sa.Engine, target: Path) -> None:
    raw = source.raw_connection()
    try:
        live: Any = raw.driver_connection
        copy = sqlite3.connect(target)
        try:
            # pages=-1: in one step, so the copy is one read snapshot. Stepping would let
            # a writer's commit restart it (or, from the same process, change it midway).
            live.backup(copy, pages=-1)
            # A standalone file: no -wal beside it to lose when the directory is copied.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        raw.close()


def _rows_into_sqlite(source: sa.Engine, target: Path) -> None:
    snapshot = create_engine(f"sqlite:///{target}")
    try:
        schema.upgrade(snapshot)
        with db_copy.snapshot(source) as reading, snapshot.begin() as writing:
            db_copy.copy_rows(reading, writing)
    finally:
        snapshot.dispose()
    # Outside any transaction (SQLite refuses it inside one): a standalone file, no -wal.
    standalone = sqlite3.connect(target, isolation_level=None)
    try:
        standalone.execute("PRAGMA journal_mode=DELETE")
    finally:
        standalone.close()


def _row_counts(connection: sa.Connection) -> dict[str, int]:
    return {
        table.name: connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in db_copy.tables()
    }


@dataclass(frozen=True)
class Wanted:
    sha256: str | None  # as the rows record it; None where they record none
    # A distribution's blob must be there; its .metadata need not (not every file has
    # one), nor the upstream cache's (evicted meanwhile, it is fetched again).
    required: bool


def _blobs_named(db: Session) -> dict[str, Wanted]:
    """Every blob path the rows name (as garbage collection counts them)."""
    wanted = dict.fromkeys(storage_gc.referenced_paths(db), Wanted(None, required=False))
    for path, sha256, metadata_sha256 in db.execute(
        sa.select(
            ReleaseFile.storage_path, ReleaseFile.sha256_digest, ReleaseFile.metadata_sha256
        ).where(ReleaseFile.storage_path.is_not(None))
    ):
        if path is None:
            continue
        wanted[path] = Wanted(sha256, required=True)
        wanted[path + METADATA_SUFFIX] = Wanted(metadata_sha256, required=False)
    return wanted


def _save_blobs(
    storage: FileStorage,
    wanted: dict[str, Wanted],
    directory: Path,
    *,
    copy_blobs: bool,
    progress: Progress,
) -> list[Blob]:
    saved: list[Blob] = []
    missing: list[str] = []
    with (directory / BLOB_LIST).open("w") as listing:
        for path in sorted(wanted):
            try:
                if copy_blobs:
                    blob = _copy_blob(storage, path, directory / BLOB_DIR / path)
                else:
                    blob = _hash_blob(storage, path)
            except BlobMissing:
                if wanted[path].required:
                    missing.append(path)
                continue
            recorded = wanted[path].sha256
            if recorded is not None and recorded != blob.sha256:
                raise BackupError(
                    f"{path}: the stored bytes have sha256 {blob.sha256}, the database "
                    f"records {recorded}"
                )
            listing.write(json.dumps(blob.__dict__) + "\n")
            saved.append(blob)
            if len(saved) % 1000 == 0:
                progress(f"{len(saved):,} blobs")
    if missing:
        raise BackupError(
            f"{len(missing)} blobs the database names are not in the storage (deleted since "
            f"the snapshot, or lost), e.g. {missing[0]}"
        )
    return saved


def _hash_blob(storage: FileStorage, path: str) -> Blob:
    digest = hashlib.sha256()
    size = 0
    with storage.open(path) as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Blob(path, size, digest.hexdigest())


def _copy_blob(storage: FileStorage, path: str, target: Path) -> Blob:
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with storage.open(path) as source, target.open("wb") as copy:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            copy.write(chunk)
            size += len(chunk)
    return Blob(path, size, digest.hexdigest())


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{directory} holds no backup ({MANIFEST} missing)") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{directory}: backup format {manifest.get('format')!r} unknown")
    return manifest


def blob_list(directory: Path) -> Iterator[Blob]:
    with (directory / BLOB_LIST).open() as listing:
        for line in listing:
            yield Blob(**json.loads(line))


@contextmanager
def _working_copy(directory: Path) -> Iterator[sa.Engine]:
    """The snapshot copied aside and brought to this version's head: the backup itself is
    never changed, and one from an older version restores into a newer one."""
    with tempfile.TemporaryDirectory(prefix="wheelyard-restore-") as scratch:
        path = Path(scratch) / DATABASE
        shutil.copyfile(directory / DATABASE, path)
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as connection:
                current = schema.current_revision(connection)
            if current not in schema.known_revisions():
                raise BackupError(f"the backup is at revision {current}, unknown to this version")
            schema.upgrade(engine)
            yield engine
        finally:
            engine.dispose()


def restore(
    directory: Path, database_url: str, storage: FileStorage, *, progress: Progress = _quiet
) -> Outcome:
    """An empty database and storage filled from the backup in ``directory``."""
    manifest = read_manifest(directory)
    copied = manifest["blobs"] == COPIED
    if copied and next(iter(storage.iter_paths()), None) is not None:
        raise BackupError("the storage is not empty: restore into empty storage")
    target = create_engine(database_url)
    try:
        try:
            db_copy.prepare_target(target)
        except CopyRefused as refused:
            raise BackupError(str(refused)) from None
        blobs = list(blob_list(directory))
        # Blobs first: rows that name a blob not there would serve 404s.
        if copied:
            progress(f"restoring {len(blobs):,} blobs")
            for blob in blobs:
                _restore_blob(directory, storage, blob)
        else:
            absent = [blob.path for blob in blobs if not storage.exists(blob.path)]
            if absent:
                raise BackupError(
                    f"{len(absent)} referenced blobs are not in the storage, e.g. {absent[0]}"
                )
        progress("restoring the rows")
        with (
            _working_copy(directory) as snapshot,
            snapshot.connect() as reading,
            target.begin() as writing,
        ):
            result = db_copy.copy_rows(reading, writing)
    finally:
        target.dispose()
    return Outcome(result.rows, len(blobs), sum(blob.size for blob in blobs))


def _restore_blob(directory: Path, storage: FileStorage, blob: Blob) -> None:
    source = directory / BLOB_DIR / blob.path
    digest = hashlib.sha256()
    try:
        with source.open("rb") as copy:
            while chunk := copy.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise BackupError(f"the backup lacks the blob {blob.path}") from None
    if digest.hexdigest() != blob.sha256:
        raise BackupError(f"{blob.path} in the backup is damaged: its sha256 differs")
    with source.open("rb") as copy:
        storage.put(blob.path, copy)
