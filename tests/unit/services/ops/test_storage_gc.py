"""Storage garbage collection: orphans go, referenced blobs and young blobs stay.

Runs on local files and on S3 (moto). Ages are steered by the cutoff rather than by the
blobs' times, which S3 does not let us set: a cutoff in the future makes every blob old.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.data.db_session import create_engine, session_factory
from wheelyard.services.ops import storage_gc
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.storage.base import FileStorage, content_path
from wheelyard.storage.local import LocalStorage
from wheelyard.storage.s3 import MIN_PART_SIZE, S3Location, S3Storage

LATER = dt.timedelta(minutes=5)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> FileStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    client = request.getfixturevalue("s3")
    bucket: str = request.getfixturevalue("s3_bucket")
    return S3Storage(client, S3Location(bucket, "gc/"), part_size=MIN_PART_SIZE)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def orphan(storage: FileStorage, content: bytes, filename: str) -> str:
    """A blob stored as a crashed upload leaves it: no row names it."""
    path = content_path(hashlib.blake2b(content, digest_size=32).hexdigest(), filename)
    storage.put(path, io.BytesIO(content))
    return path


@pytest.fixture
def stored(make: Factory, storage: FileStorage) -> list[str]:
    """The paths of a wheel (with its .metadata) and an sdist that rows refer to."""
    release = make.release(make.package("kept", versions=()), "1.0", with_file=False)
    project = Project("kept", "1.0")
    files = [
        make.stored_file(release, wheel(project), storage),
        make.stored_file(release, sdist(project), storage),
    ]
    paths = [file.storage_path for file in files if file.storage_path is not None]
    return [paths[0], paths[0] + METADATA_SUFFIX, paths[1]]


def test_the_survey_finds_orphans_and_spares_what_rows_refer_to(
    db: Session, storage: FileStorage, stored: list[str]
) -> None:
    lost = orphan(storage, b"crashed upload", "lost-1.0.tar.gz")
    # A deleted wheel's metadata stays behind: its distribution blob went, its row too.
    lost_metadata = orphan(storage, b"Metadata-Version: 2.1", "gone-1.0-py3-none-any.whl.metadata")

    found = storage_gc.survey(db, storage, now() + LATER)

    assert sorted(blob.path for blob in found.orphans) == sorted([lost, lost_metadata])
    assert found.orphan_bytes == len(b"crashed upload") + len(b"Metadata-Version: 2.1")
    assert (found.referenced, found.young) == (3, 0)


def test_young_orphans_are_spared(db: Session, storage: FileStorage, stored: list[str]) -> None:
    orphan(storage, b"being uploaded right now", "busy-1.0.tar.gz")

    found = storage_gc.survey(db, storage, now() - dt.timedelta(hours=1))

    assert (found.orphans, found.young, found.referenced) == ((), 1, 3)


def test_removing_takes_orphans_and_nothing_else(
    db: Session, storage: FileStorage, stored: list[str]
) -> None:
    lost = orphan(storage, b"crashed upload", "lost-1.0.tar.gz")
    cutoff = now() + LATER

    assert storage_gc.remove_orphan(db, storage, lost, cutoff)
    for path in stored:
        assert not storage_gc.remove_orphan(db, storage, path, cutoff)
    assert not storage_gc.remove_orphan(db, storage, lost, cutoff)  # already gone

    assert sorted(storage.iter_paths()) == sorted(stored)


def test_a_blob_put_again_after_the_survey_is_spared(
    db: Session, storage: FileStorage, stored: list[str]
) -> None:
    """An upload claiming a crashed upload's orphan renews it before committing its row."""
    lost = orphan(storage, b"crashed upload", "lost-1.0.tar.gz")
    time.sleep(1.1)  # S3 keeps LastModified to the second
    cutoff = now()
    assert [blob.path for blob in storage_gc.survey(db, storage, cutoff).orphans] == [lost]
    time.sleep(1.1)

    storage.put(lost, io.BytesIO(b"crashed upload"))

    assert not storage_gc.remove_orphan(db, storage, lost, cutoff)
    assert storage.exists(lost)


def test_a_database_without_schema_is_refused(storage: FileStorage, tmp_path: Path) -> None:
    """A wrong database URL must not turn every blob into an orphan."""
    orphan(storage, b"precious", "precious-1.0.tar.gz")
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with session_factory(engine)() as db, pytest.raises(storage_gc.NoSchema):
            storage_gc.survey(db, storage, now() + LATER)
    finally:
        engine.dispose()
    assert len(list(storage.iter_paths())) == 1
