"""Contract tests for FileStorage, run against the local backend."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time

import pytest

from wheelyard.storage.base import StorageError, content_path
from wheelyard.storage.local import TEMP_PREFIX, LocalStorage


def blob_path(content: bytes, filename: str = "demo-1.0.tar.gz") -> str:
    return content_path(hashlib.blake2b(content, digest_size=32).hexdigest(), filename)


def test_content_path_follows_pypi_layout() -> None:
    digest = "ab" * 32
    assert content_path(digest, "x-1.0.tar.gz") == f"ab/ab/{'ab' * 30}/x-1.0.tar.gz"


@pytest.mark.parametrize("filename", ["", "..", "a/b.whl", "a\\b.whl"])
def test_content_path_refuses_non_plain_filenames(filename: str) -> None:
    with pytest.raises(ValueError, match="plain filename"):
        content_path("ab" * 32, filename)


def test_content_path_refuses_non_digests() -> None:
    with pytest.raises(ValueError, match="digest"):
        content_path("../../etc", "x.whl")


def test_put_then_read_back(storage: LocalStorage) -> None:
    path = blob_path(b"hello")
    storage.put(path, io.BytesIO(b"hello"))
    assert storage.exists(path)
    assert storage.size(path) == 5
    with storage.open(path) as handle:
        assert handle.read() == b"hello"
    assert list(storage.iter_paths()) == [path]


def test_existing_blob_is_never_overwritten(storage: LocalStorage) -> None:
    path = blob_path(b"first")
    storage.put(path, io.BytesIO(b"first"))
    storage.put(path, io.BytesIO(b"something else"))
    with storage.open(path) as handle:
        assert handle.read() == b"first"


def test_no_temporary_files_are_left_behind(storage: LocalStorage) -> None:
    path = blob_path(b"data")
    storage.put(path, io.BytesIO(b"data"))
    leftovers = [p for p in storage.root.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    assert leftovers == []


def test_failed_write_leaves_nothing(storage: LocalStorage) -> None:
    class Exploding(io.RawIOBase):
        def readinto(self, buffer: object) -> int:
            raise OSError("disk went away")

    path = blob_path(b"never")
    with pytest.raises(OSError, match="disk went away"):
        storage.put(path, Exploding())  # type: ignore[arg-type]
    assert not storage.exists(path)
    assert [p for p in storage.root.rglob("*") if p.is_file()] == []


def test_missing_blob_raises_storage_error(storage: LocalStorage) -> None:
    with pytest.raises(StorageError):
        storage.open(blob_path(b"absent"))


def test_paths_cannot_escape_the_root(storage: LocalStorage) -> None:
    with pytest.raises(StorageError):
        storage.open("../outside")


def test_delete_removes_and_tolerates_absence(storage: LocalStorage) -> None:
    path = blob_path(b"gone")
    storage.put(path, io.BytesIO(b"gone"))
    storage.delete(path)
    storage.delete(path)
    assert not storage.exists(path)


def test_leftovers_of_a_killed_write_are_removed_once_old(storage: LocalStorage) -> None:
    """A process killed mid-write leaves its temporary file; a young one may be in use."""
    kept = blob_path(b"kept")
    storage.put(kept, io.BytesIO(b"kept"))
    folder = storage.root / kept.rsplit("/", 1)[0]
    old = folder / f"{TEMP_PREFIX}killed"
    old.write_bytes(b"half a wh")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    young = folder / f"{TEMP_PREFIX}writing"
    young.write_bytes(b"being writ")
    assert list(storage.iter_paths()) == [kept]

    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert storage.remove_leftovers(hour_ago) == 1

    assert not old.exists()
    assert young.exists()
    assert storage.exists(kept)
