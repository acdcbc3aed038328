"""Local, content-addressed file storage on the server's filesystem."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from wheelyard.storage.base import BlobMissing, StorageError, StorageFull, StoredBlob

# Temporary files sit beside their target (same filesystem, so rename is atomic) and are
# named so that listings and garbage collection can tell them apart.
TEMP_PREFIX = ".incoming-"
# What a filesystem says when it is full, or the server's user is over its quota.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _resolve(self, path: str) -> Path:
        target = (self.root / path).resolve()
        # Paths come from our own digests, but refuse anything that would leave the root.
        if target == self.root or self.root not in target.parents:
            raise StorageError(f"path outside storage: {path!r}")
        return target

    def put(self, path: str, source: BinaryIO) -> None:
        target = self._resolve(path)
        if target.exists():
            # Content-addressed: the same path already holds the same bytes. It may be the
            # orphan of a crashed upload that this upload is about to claim: make it young,
            # so garbage collection leaves it alone until the row is committed.
            with contextlib.suppress(FileNotFoundError):
                os.utime(target)
                return
        try:
            self._write_new(target, source)
        except OSError as error:
            # Other errors may be the source's (the request body) as well as the disk's.
            if error.errno in NO_ROOM:
                raise StorageFull(f"no room to store {path}: {error}") from error
            raise

    def _write_new(self, target: Path, source: BinaryIO) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as temp:
                shutil.copyfileobj(source, temp, length=1024 * 1024)
                temp.flush()
                os.fsync(temp.fileno())
            os.chmod(temp_name, 0o644)
            # link() fails if the target appeared meanwhile, so a blob is never overwritten.
            with contextlib.suppress(FileExistsError):
                os.link(temp_name, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)

    def open(self, path: str) -> BinaryIO:
        try:
            return self._resolve(path).open("rb")
        except (FileNotFoundError, IsADirectoryError) as error:
            raise BlobMissing(f"no such blob: {path}") from error

    def exists(self, path: str) -> bool:
        return self._resolve(path).is_file()

    def size(self, path: str) -> int:
        try:
            return self._resolve(path).stat().st_size
        except FileNotFoundError as error:
            raise BlobMissing(f"no such blob: {path}") from error

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._resolve(path).unlink()

    def local_path(self, path: str) -> Path | None:
        return self._resolve(path)

    def modified(self, path: str) -> dt.datetime:
        try:
            return _mtime(self._resolve(path).stat())
        except FileNotFoundError as error:
            raise BlobMissing(f"no such blob: {path}") from error

    def iter_paths(self) -> Iterator[str]:
        for blob in self.iter_blobs():
            yield blob.path

    def iter_blobs(self) -> Iterator[StoredBlob]:
        for file, stat in self._files():
            if not file.name.startswith(TEMP_PREFIX):
                path = file.relative_to(self.root).as_posix()
                yield StoredBlob(path, stat.st_size, _mtime(stat))

    def remove_leftovers(self, older_than: dt.datetime) -> int:
        # A process killed while writing leaves its temporary file; younger ones may still
        # be being written.
        removed = 0
        for file, stat in self._files():
            if file.name.startswith(TEMP_PREFIX) and _mtime(stat) < older_than:
                with contextlib.suppress(FileNotFoundError):
                    file.unlink()
                    removed += 1
        return removed

    def _files(self) -> Iterator[tuple[Path, os.stat_result]]:
        if not self.root.exists():
            return
        for file in self.root.rglob("*"):
            try:
                stat = file.stat()
            except FileNotFoundError:
                continue  # removed while we walked
            if S_ISREG(stat.st_mode):
                yield file, stat


def _mtime(stat: os.stat_result) -> dt.datetime:
    return dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
