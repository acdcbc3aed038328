"""The FileStorage contract, run against every backend: local files and S3 (on moto)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import dists
from wheelyard.services.index.project_page import read_wheel_metadata
from wheelyard.storage.base import FileStorage, StorageError, content_path
from wheelyard.storage.local import LocalStorage
from wheelyard.storage.s3 import MIN_PART_SIZE, S3Location, S3Storage

MakeStorage = Callable[[str], FileStorage]
MiB = 1024 * 1024
# Large enough for several S3 parts (the S3 fixture uses the smallest part size S3 allows)
# and to tell streaming from reading the whole blob into memory.
LARGE_SIZE = 3 * MIN_PART_SIZE + MiB
READ_CHUNK = 64 * 1024


def blob_path(content: bytes, filename: str = "demo-1.0.tar.gz") -> str:
    return content_path(hashlib.blake2b(content, digest_size=32).hexdigest(), filename)


@pytest.fixture(params=["local", "s3"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStorage:
    """Backends rooted at a prefix ("" for the root) of one shared place."""
    if request.param == "local":
        return lambda prefix: LocalStorage(tmp_path / "files" / prefix)
    # Asked for only here, so a run of local tests alone never starts the moto server.
    client = request.getfixturevalue("s3")
    bucket: str = request.getfixturevalue("s3_bucket")
    return lambda prefix: S3Storage(
        client, S3Location(bucket, f"{prefix}/" if prefix else ""), part_size=MIN_PART_SIZE
    )


@pytest.fixture
def storage(make_storage: MakeStorage) -> FileStorage:
    return make_storage("")


def read_all(storage: FileStorage, path: str) -> bytes:
    with storage.open(path) as handle:
        return handle.read()


def test_put_then_read_back(storage: FileStorage) -> None:
    path = blob_path(b"hello")
    storage.put(path, io.BytesIO(b"hello"))
    assert storage.exists(path)
    assert storage.size(path) == 5
    assert read_all(storage, path) == b"hello"
    assert list(storage.iter_paths()) == [path]


def test_empty_blob_round_trips(storage: FileStorage) -> None:
    path = blob_path(b"")
    storage.put(path, io.BytesIO(b""))
    assert storage.exists(path)
    assert storage.size(path) == 0
    assert read_all(storage, path) == b""


def test_existing_blob_is_never_overwritten(storage: FileStorage) -> None:
    path = blob_path(b"first")
    storage.put(path, io.BytesIO(b"first"))
    # No error either: a retried upload stores the same path again.
    storage.put(path, io.BytesIO(b"something else"))
    assert read_all(storage, path) == b"first"
    assert storage.size(path) == 5


def test_failed_write_leaves_nothing(storage: FileStorage) -> None:
    class Exploding(io.RawIOBase):
        def readinto(self, buffer: object) -> int:
            raise OSError("disk went away")

    path = blob_path(b"never")
    with pytest.raises(OSError, match="disk went away"):
        storage.put(path, Exploding())  # type: ignore[arg-type]
    assert not storage.exists(path)
    assert list(storage.iter_paths()) == []


def test_missing_blob_raises_storage_error(storage: FileStorage) -> None:
    path = blob_path(b"absent")
    assert not storage.exists(path)
    with pytest.raises(StorageError):
        storage.open(path)
    with pytest.raises(StorageError):
        storage.size(path)
    with pytest.raises(StorageError):
        storage.modified(path)


def test_blobs_are_listed_with_size_and_time(storage: FileStorage) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=1)
    paths = {blob_path(b"one"): 3, blob_path(b"three", "demo-3.0.tar.gz"): 5}
    for path in paths:
        storage.put(path, io.BytesIO(b"one" if paths[path] == 3 else b"three"))
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    listed = {blob.path: blob for blob in storage.iter_blobs()}
    assert {path: blob.size for path, blob in listed.items()} == paths
    for path, blob in listed.items():
        assert before <= blob.modified <= after
        assert storage.modified(path) == blob.modified


def test_putting_an_existing_blob_again_renews_it(storage: FileStorage) -> None:
    """Garbage collection spares young blobs: an upload claiming an old orphan makes it young."""
    path = blob_path(b"orphan")
    storage.put(path, io.BytesIO(b"orphan"))
    first = storage.modified(path)
    time.sleep(1.1)  # S3 keeps LastModified to the second
    storage.put(path, io.BytesIO(b"orphan"))
    assert storage.modified(path) > first
    assert read_all(storage, path) == b"orphan"


def test_a_directory_of_blobs_is_not_a_blob(storage: FileStorage) -> None:
    path = blob_path(b"inside")
    storage.put(path, io.BytesIO(b"inside"))
    directory = path.rsplit("/", 1)[0]
    assert not storage.exists(directory)
    with pytest.raises(StorageError):
        storage.open(directory)


@pytest.mark.parametrize("path", ["../outside", "ab/../../outside", "ab/../../../etc/passwd"])
@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda storage, path: storage.open(path), id="open"),
        pytest.param(lambda storage, path: storage.exists(path), id="exists"),
        pytest.param(lambda storage, path: storage.size(path), id="size"),
        pytest.param(lambda storage, path: storage.put(path, io.BytesIO(b"x")), id="put"),
        pytest.param(lambda storage, path: storage.delete(path), id="delete"),
    ],
)
def test_paths_cannot_escape_the_storage(
    make_storage: MakeStorage, path: str, operation: Callable[[FileStorage, str], object]
) -> None:
    storage = make_storage("tenant")
    with pytest.raises(StorageError):
        operation(storage, path)
    assert list(make_storage("").iter_paths()) == []


def test_delete_removes_and_tolerates_absence(storage: FileStorage) -> None:
    path = blob_path(b"gone")
    storage.put(path, io.BytesIO(b"gone"))
    storage.delete(path)
    storage.delete(path)
    assert not storage.exists(path)
    assert list(storage.iter_paths()) == []


def test_delete_leaves_other_blobs_alone(storage: FileStorage) -> None:
    kept, dropped = blob_path(b"kept"), blob_path(b"dropped")
    storage.put(kept, io.BytesIO(b"kept"))
    storage.put(dropped, io.BytesIO(b"dropped"))
    storage.delete(dropped)
    assert list(storage.iter_paths()) == [kept]
    assert read_all(storage, kept) == b"kept"


def test_iter_paths_lists_every_blob(storage: FileStorage) -> None:
    contents = [f"blob {number}".encode() for number in range(7)]
    expected: set[str] = set()
    for content in contents:
        path = blob_path(content, f"demo-{len(expected)}.whl")
        storage.put(path, io.BytesIO(content))
        # The PEP 658 metadata lives beside its wheel, one directory holding two blobs.
        storage.put(path + ".metadata", io.BytesIO(b"Metadata-Version: 2.1\n"))
        expected |= {path, path + ".metadata"}
    assert sorted(storage.iter_paths()) == sorted(expected)


def test_a_prefix_keeps_its_blobs_to_itself(make_storage: MakeStorage) -> None:
    tenant, sibling, root = (
        make_storage("wheelyard/a"),
        make_storage("wheelyard/ab"),
        make_storage(""),
    )
    path = blob_path(b"tenant data")
    tenant.put(path, io.BytesIO(b"tenant data"))

    assert read_all(tenant, path) == b"tenant data"
    assert list(tenant.iter_paths()) == [path]
    # "wheelyard/ab" starts with "wheelyard/a" but is another place.
    assert list(sibling.iter_paths()) == []
    assert not sibling.exists(path)
    # The prefix names where the blobs are, seen from the root.
    assert list(root.iter_paths()) == [f"wheelyard/a/{path}"]
    assert read_all(root, f"wheelyard/a/{path}") == b"tenant data"


UNUSUAL_FILENAMES = [
    "demo pkg-1.0.tar.gz",  # a space
    "démo_ünïcode-1.0-py3-none-any.whl",  # non-ASCII
    "demo-1.0+local.build-py3-none-any.whl",  # "+" reads as a space in query strings
    "demo%2F-1.0~&=;,@$!'()*.tar.gz",  # URL-reserved characters, a percent-escape lookalike
    "Demo.Ünï Ço+de-1.0.tar.gz",
]


@pytest.mark.parametrize("filename", UNUSUAL_FILENAMES)
def test_unusual_filenames_round_trip(storage: FileStorage, filename: str) -> None:
    content = filename.encode()
    path = blob_path(content, filename)
    storage.put(path, io.BytesIO(content))
    assert storage.exists(path)
    assert storage.size(path) == len(content)
    assert read_all(storage, path) == content
    assert list(storage.iter_paths()) == [path]
    storage.delete(path)
    assert not storage.exists(path)


def test_open_streams_are_seekable(storage: FileStorage) -> None:
    content = bytes(range(256)) * 1024
    path = blob_path(content)
    storage.put(path, io.BytesIO(content))
    with storage.open(path) as handle:
        assert handle.seekable()
        assert handle.read(10) == content[:10]
        handle.seek(-100, io.SEEK_END)
        assert handle.tell() == len(content) - 100
        assert handle.read() == content[-100:]
        handle.seek(1000)
        assert handle.read(5) == content[1000:1005]
        handle.seek(10, io.SEEK_CUR)
        assert handle.read(5) == content[1015:1020]
        assert handle.read(0) == b""
        handle.seek(len(content) + 10)
        assert handle.read() == b""


def test_a_stored_wheels_metadata_reads_in_place(storage: FileStorage) -> None:
    # zipfile jumps to the central directory at the end of the archive and back: the
    # file handler serves PEP 658 metadata this way when it was not stored beside the wheel.
    wheel = dists.wheel(dists.Project("demo", "1.0"))
    path = blob_path(wheel.content, wheel.filename)
    storage.put(path, io.BytesIO(wheel.content))
    with storage.open(path) as handle:
        assert read_wheel_metadata(handle) == wheel.metadata.encode()


class GeneratedStream(io.RawIOBase):
    """Deterministic pseudo-random bytes, made as they are read: never all in memory."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.remaining = size
        self.random = random.Random(seed)
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.remaining, MiB)
        data = self.random.randbytes(count)
        buffer[:count] = data
        self.sha256.update(data)
        self.remaining -= count
        return count


@contextmanager
def peak_memory() -> Iterator[Callable[[], int]]:
    """The most Python memory allocated at once inside the block, beyond what it started with."""
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline, _ = tracemalloc.get_traced_memory()
    peak = 0
    try:
        yield lambda: peak
    finally:
        peak = tracemalloc.get_traced_memory()[1] - baseline
        if not already:
            tracemalloc.stop()


def test_large_blobs_stream_in_and_out(storage: FileStorage) -> None:
    source = GeneratedStream(LARGE_SIZE)
    path = blob_path(b"large", "large-1.0.tar.gz")
    with peak_memory() as stored_peak:
        # Buffered, as uploads are (a spooled temporary file) and as open() files are.
        storage.put(path, io.BufferedReader(source))
    assert storage.size(path) == LARGE_SIZE

    read_back = hashlib.sha256()
    with peak_memory() as read_peak, storage.open(path) as handle:
        for chunk in iter(lambda: handle.read(READ_CHUNK), b""):
            read_back.update(chunk)
    assert read_back.hexdigest() == source.sha256.hexdigest()
    # Writing holds one S3 part and what boto3 needs to send it; reading holds a buffer
    # or two. Neither holds the whole blob.
    assert stored_peak() < MIN_PART_SIZE + 4 * MiB < LARGE_SIZE
    assert read_peak() < 2 * MiB


def test_readers_are_independent(storage: FileStorage) -> None:
    first, second = b"a" * 200_000, b"b" * 200_000
    storage.put(blob_path(first), io.BytesIO(first))
    storage.put(blob_path(second), io.BytesIO(second))
    with storage.open(blob_path(first)) as one, storage.open(blob_path(second)) as other:
        assert one.read(1000) == first[:1000]
        assert other.read(1000) == second[:1000]
        assert one.read() == first[1000:]
        assert other.read() == second[1000:]
