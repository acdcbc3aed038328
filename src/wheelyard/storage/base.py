"""The FileStorage protocol: where distribution files and their metadata live."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


class StorageError(Exception):
    """A blob could not be stored or read."""


class BlobMissing(StorageError):
    """The storage answered, and has no blob at that path."""


class StorageFull(StorageError):
    """The storage has no room left for the blob (ENOSPC, EDQUOT): nothing of it was kept."""


def content_path(blake2_256: str, filename: str) -> str:
    """PyPI's layout: ``ab/cd/<rest of the BLAKE2b-256 hex>/<filename>``.

    The digest spreads files over directories and makes a path name its content, so a
    stored blob never needs to be overwritten.
    """
    if len(blake2_256) != 64 or any(c not in "0123456789abcdef" for c in blake2_256):
        raise ValueError("not a BLAKE2b-256 hex digest")
    if "/" in filename or "\\" in filename or filename in {"", ".", ".."}:
        raise ValueError("not a plain filename")
    return f"{blake2_256[:2]}/{blake2_256[2:4]}/{blake2_256[4:]}/{filename}"


@dataclass(frozen=True)
class StoredBlob:
    """One blob as a listing sees it."""

    path: str
    size: int
    modified: dt.datetime  # aware, UTC: when it was last written or put again


class FileStorage(Protocol):
    def put(self, path: str, source: BinaryIO) -> None:
        """Store the bytes of ``source`` at ``path`` atomically; an existing blob is kept.

        Putting an existing blob again makes it new (its ``modified`` time is now): garbage
        collection spares young blobs, and an upload may be about to commit a row for it.
        """

    def open(self, path: str) -> BinaryIO:
        """The stored bytes; StorageError when there are none."""

    def exists(self, path: str) -> bool: ...

    def size(self, path: str) -> int: ...

    def delete(self, path: str) -> None:
        """Remove the blob if it is there."""

    def local_path(self, path: str) -> Path | None:
        """A filesystem path to serve directly from, when the backend has one."""

    def modified(self, path: str) -> dt.datetime:
        """When the blob was last written or put again (aware, UTC); StorageError if absent."""

    def iter_paths(self) -> Iterator[str]:
        """Every stored path (for garbage collection and checks)."""

    def iter_blobs(self) -> Iterator[StoredBlob]:
        """Every stored blob with its size and age, as ``iter_paths`` lists them."""

    def remove_leftovers(self, older_than: dt.datetime) -> int:
        """Remove what writes cut short (by a crash) left before ``older_than``; how many.

        Never a blob: only the backend's half-written pieces, which no reader can see.
        """


@runtime_checkable
class PresignedDownloads(Protocol):
    """A backend that can hand out URLs clients download from without passing through us."""

    def presigned_url(self, path: str, expires_seconds: int) -> str | None:
        """A URL that serves the blob at ``path`` until ``expires_seconds`` have passed."""


def presigned_url(storage: FileStorage, path: str, expires_seconds: int) -> str | None:
    """The backend's presigned URL for ``path``, or None when it cannot make one.

    An optional capability rather than a FileStorage method: the local backend has nothing
    to offer here, and the file handler then serves the bytes itself.
    """
    if isinstance(storage, PresignedDownloads):
        return storage.presigned_url(path, expires_seconds)
    return None
