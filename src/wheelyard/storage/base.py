"""The FileStorage protocol: where distribution files and their metadata live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


class StorageError(Exception):
    """A blob could not be stored or read."""


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


class FileStorage(Protocol):
    def put(self, path: str, source: BinaryIO) -> None:
        """Store the bytes of ``source`` at ``path`` atomically; an existing blob is kept."""

    def open(self, path: str) -> BinaryIO:
        """The stored bytes; StorageError when there are none."""

    def exists(self, path: str) -> bool: ...

    def size(self, path: str) -> int: ...

    def delete(self, path: str) -> None:
        """Remove the blob if it is there."""

    def local_path(self, path: str) -> Path | None:
        """A filesystem path to serve directly from, when the backend has one."""

    def iter_paths(self) -> Iterator[str]:
        """Every stored path (for garbage collection and checks)."""


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
