"""Local, content-addressed file storage on the server's filesystem."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from wheelyard.storage.base import StorageError

# Temporary files sit beside their target (same filesystem, so rename is atomic) and are
# named so that listings and garbage collection can tell them apart.
TEMP_PREFIX = ".incoming-"


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
            return  # content-addressed: the same path already holds the same bytes
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
            raise StorageError(f"no such blob: {path}") from error

    def exists(self, path: str) -> bool:
        return self._resolve(path).is_file()

    def size(self, path: str) -> int:
        try:
            return self._resolve(path).stat().st_size
        except FileNotFoundError as error:
            raise StorageError(f"no such blob: {path}") from error

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._resolve(path).unlink()

    def local_path(self, path: str) -> Path | None:
        return self._resolve(path)

    def iter_paths(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for file in self.root.rglob("*"):
            if file.is_file() and not file.name.startswith(TEMP_PREFIX):
                yield file.relative_to(self.root).as_posix()
