"""What a download needs to know of a file, and a per-worker cache of it by filename; and the
whole file row a metadata request (PEP 658 ``.metadata``) reads.

Every download used to cost a database query (and a thread to run it). Files never change
under their name, but they can be removed: the cache is kept by the page cache, which drops
a package's files with its pages when the journal names the package (services/page_cache.py),
so a removed file stops being served as soon as its project's pages would change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from wheelyard.data.package import Package, ProjectStatus, Visibility
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile

MAX_FILES = 100_000


@dataclass(frozen=True, slots=True)
class ServedFile:
    file_id: int
    release_id: int
    package_id: str
    version: str
    filename: str
    packagetype: str
    size: int
    sha256_digest: str
    storage_path: str | None
    # Only public projects' files are kept by ``ServedFiles``: a private one's download asks
    # who is reading, every time.
    public: bool = True

    @classmethod
    def of(cls, release_file: ReleaseFile) -> ServedFile:
        return cls(
            file_id=release_file.id,
            release_id=release_file.release_id,
            package_id=release_file.release.package_id,
            version=release_file.release.version,
            filename=release_file.filename,
            packagetype=release_file.packagetype,
            size=release_file.size,
            sha256_digest=release_file.sha256_digest,
            storage_path=release_file.storage_path,
            public=release_file.release.package.visibility == Visibility.PUBLIC,
        )


def find_served(db: Session, filename: str) -> ServedFile | None:
    """The file named ``filename`` (filenames are unique), in one indexed query."""
    query = (
        sa.select(
            ReleaseFile.id,
            ReleaseFile.release_id,
            Release.package_id,
            Release.version,
            ReleaseFile.filename,
            ReleaseFile.packagetype,
            ReleaseFile.size,
            ReleaseFile.sha256_digest,
            ReleaseFile.storage_path,
            (Package.visibility == Visibility.PUBLIC).label("public"),
        )
        .join(Release, Release.id == ReleaseFile.release_id)
        .join(Package, Package.id == Release.package_id)
        # PEP 792: no file of a quarantined project is served (as if it were not there).
        .where(ReleaseFile.filename == filename, Package.status != ProjectStatus.QUARANTINED)
    )
    row = db.execute(query).one_or_none()
    if row is None:
        return None
    return ServedFile(
        file_id=row.id,
        release_id=row.release_id,
        package_id=row.package_id,
        version=row.version,
        filename=row.filename,
        packagetype=row.packagetype,
        size=row.size,
        sha256_digest=row.sha256_digest,
        storage_path=row.storage_path,
        public=bool(row.public),
    )


def find_release_file(db: Session, filename: str) -> ReleaseFile | None:
    """The release file named ``filename`` (filenames are unique), with its release.

    For a file's metadata, which ``ServedFile`` does not carry; downloads use ``find_served``.
    """
    query = (
        sa.select(ReleaseFile)
        .join(ReleaseFile.release)
        .join(Package, Package.id == Release.package_id)
        .options(contains_eager(ReleaseFile.release))
        .where(ReleaseFile.filename == filename, Package.status != ProjectStatus.QUARANTINED)
    )
    return db.scalars(query).one_or_none()


class ServedFiles:
    """Files by name, least recently used first out; dropped by package."""

    def __init__(self, max_files: int = MAX_FILES) -> None:
        self.max_files = max_files
        self._lock = threading.Lock()
        self._files: OrderedDict[str, ServedFile] = OrderedDict()
        self._by_package: dict[str, set[str]] = {}
        # Bumped by every drop: a lookup that began before one is not stored.
        self._generation = 0

    def ticket(self) -> int:
        return self._generation

    def lookup(self, filename: str) -> ServedFile | None:
        with self._lock:
            served = self._files.get(filename)
            if served is not None:
                self._files.move_to_end(filename)
            return served

    def store(self, ticket: int, served: ServedFile) -> None:
        with self._lock:
            if ticket != self._generation or not served.public:
                return
            self._files[served.filename] = served
            self._files.move_to_end(served.filename)
            self._by_package.setdefault(served.package_id, set()).add(served.filename)
            while len(self._files) > self.max_files:
                _name, oldest = self._files.popitem(last=False)
                self._forget(oldest)

    def drop(self, package_ids: Iterable[str]) -> None:
        with self._lock:
            self._generation += 1
            for package_id in package_ids:
                for filename in self._by_package.pop(package_id, ()):
                    self._files.pop(filename, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._files.clear()
            self._by_package.clear()

    def __len__(self) -> int:
        return len(self._files)

    def _forget(self, served: ServedFile) -> None:
        names = self._by_package.get(served.package_id)
        if names is not None:
            names.discard(served.filename)
            if not names:
                del self._by_package[served.package_id]
