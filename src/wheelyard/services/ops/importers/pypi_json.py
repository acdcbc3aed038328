"""Importing PyPI JSON API documents (the body of https://pypi.org/pypi/<name>/json).

A document describes one project: ``info`` (the metadata of its newest release),
``releases`` (every version with its files) and ``urls`` (the newest release's files).
``import_document`` adds what the database does not have yet: the project, its releases,
their files (known by URL only: the blobs stay on PyPI), the authors and maintainers as users
who cannot log in, and the journal entries that tell page caches and mirrors about it.

It only ever adds. A row that is already there is left as it is, so importing the same
documents again changes nothing, and a newer dump of a project brings only what is new. The
project's descriptive columns are refreshed only when the document brings a new latest
release, because that is when ``info`` describes something the index did not show before.
``info`` is the metadata of one release (its ``version``): that release keeps it as its own
row, when it has none yet, so a per-version document brings that version's README and
license to its page.

Reading a document is ``pypi_documents``' part, the project's descriptive columns
``pypi_description``'s and its people ``pypi_people``'s; this module adds the project, its
releases and their files, and journals them.

It never commits: the command gives each document its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard import versions
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.release_metadata import ReleaseMetadata
from wheelyard.services import journal
from wheelyard.services.naming import is_valid_project_name, normalize_name
from wheelyard.services.ops.importers.pypi_description import describe
from wheelyard.services.ops.importers.pypi_documents import (
    DocumentError,
    ListedFile,
    column_width,
    fit,
    listed_releases,
    mapping_of,
    read_file_entry,
    text_of,
)
from wheelyard.services.ops.importers.pypi_people import add_people
from wheelyard.services.projects import readme
from wheelyard.services.projects.packages import latest_release
from wheelyard.services.projects.release_metadata import from_document

# Bound parameters per IN (...) query; far below SQLite's and PostgreSQL's limits.
_CHUNK = 500


@dataclass(frozen=True)
class Skipped:
    item: str  # a filename, or "version X" for a whole release
    reason: str


@dataclass
class ImportResult:
    """What one document changed, and what it listed but could not bring in."""

    project: str
    new_project: bool = False
    releases_added: int = 0
    files_added: int = 0
    files_present: int = 0
    users_added: int = 0
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class _KnownFile:
    release_id: int
    sha256: str


@dataclass(frozen=True)
class _Change:
    release: Release
    files: list[ListedFile]  # the files added to it now
    is_new: bool


@dataclass
class _Taken:
    """Filenames and digests already on the index.

    A filename maps to None when it was used once and its file removed: the registry keeps
    it so that it is never reused.
    """

    names: dict[str, _KnownFile | None] = field(default_factory=dict)
    digests: dict[str, _KnownFile] = field(default_factory=dict)

    def add(self, filename: str, known: _KnownFile) -> None:
        self.names[filename] = known
        self.digests[known.sha256] = known


# --- importing ------------------------------------------------------------------------------------


def import_document(db: Session, document: Mapping[str, Any]) -> ImportResult:
    """Add what ``document`` lists and the database lacks; DocumentError if it names no project."""
    info = mapping_of(document.get("info"))
    name = text_of(info.get("name"))
    if name is None:
        raise DocumentError("the document has no info.name")
    if not is_valid_project_name(name):
        raise DocumentError(f"{name!r} is not a valid project name")
    package = db.get(Package, normalize_name(name))
    result = ImportResult(project=name, new_project=package is None)
    if package is None:
        package = Package(id=normalize_name(name), name=name)
        db.add(package)
        db.flush()
        journal.record(db, package, journal.Action.CREATE)
    changes = _add_releases(db, package, listed_releases(document, info), info, result)
    db.expire(package, ["releases"])
    described = _described_release(db, package, info)
    # The project's columns are its latest release's: a document of an older release (a
    # per-version document) describes only that release.
    if result.new_project or (
        result.releases_added and (described is None or described is latest_release(package))
    ):
        describe(db, package, info)
        result.users_added = add_people(db, package, info)
    if described is not None and described.core_metadata is None:
        described.core_metadata = _release_metadata(package, info)
    uploads = [f.uploaded for change in changes for f in change.files if f.uploaded is not None]
    newest = max(uploads, default=None)
    if newest is not None and (package.last_updated is None or newest > package.last_updated):
        package.last_updated = newest
    db.flush()
    # The collection holds the new releases in the order they were added; reload it sorted.
    db.expire(package, ["releases"])
    return result


def _described_release(db: Session, package: Package, info: Mapping[str, Any]) -> Release | None:
    """The release whose metadata ``info`` is (its ``version``), when the index has it."""
    version = text_of(info.get("version"))
    if version is None:
        return None
    query = sa.select(Release).where(Release.package_id == package.id, Release.version == version)
    return db.scalars(query).first()


def _release_metadata(package: Package, info: Mapping[str, Any]) -> ReleaseMetadata:
    """The described release's own row, its README rendered once (reused when the project's
    columns were just filled from the same text)."""
    description = text_of(info.get("description"))
    content_type = text_of(info.get("description_content_type"))
    if description is None:
        html = None
    elif description == package.description and package.description_html is not None:
        html = package.description_html
    else:
        html = readme.render(description, content_type)
    return from_document(info, description_html=html)


def _add_releases(
    db: Session,
    package: Package,
    listed: Mapping[str, Sequence[Any]],
    info: Mapping[str, Any],
    result: ImportResult,
) -> list[_Change]:
    """Add the missing releases and files, and journal them; return what changed."""
    entries = _storable(listed, result)
    taken = _known_files(db, (f for files in entries.values() for f in files))
    releases = {release.version: release for release in package.releases}
    created = [
        _new_release(package, version, files, info)
        for version, files in entries.items()
        if version not in releases
    ]
    # One flush for all of them: the files need their ids, and a flush per row is slow.
    db.add_all(created)
    db.flush()
    result.releases_added = len(created)
    releases.update((release.version, release) for release in created)
    new_ids = {release.id for release in created}
    changes = []
    for version, files in entries.items():
        release = releases[version]
        fresh = _attach_files(db, release, files, taken, result)
        if fresh or release.id in new_ids:
            changes.append(_Change(release, fresh, is_new=release.id in new_ids))
    db.flush()
    _journal(db, package, changes)
    return changes


def _storable(
    listed: Mapping[str, Sequence[Any]], result: ImportResult
) -> dict[str, list[ListedFile]]:
    """version -> its readable files, oldest version first, so serials follow history."""
    entries = {}
    for version in sorted(listed, key=versions.sort_key):
        if not version.strip() or len(version) > column_width(Release, "version"):
            result.skipped.append(Skipped(f"version {version!r}", "the version cannot be stored"))
            continue
        entries[version] = _readable(listed[version], result)
    return entries


def _journal(db: Session, package: Package, changes: Iterable[_Change]) -> None:
    for change in changes:
        version = change.release.version
        if change.is_new:
            journal.record(db, package, journal.Action.NEW_RELEASE, version=version)
        for file in change.files:
            journal.record(
                db, package, journal.Action.ADD_FILE, version=version, filename=file.filename
            )


def _readable(entries: Sequence[Any], result: ImportResult) -> list[ListedFile]:
    files = []
    for entry in entries:
        read = read_file_entry(entry)
        if isinstance(read, str):
            filename = text_of(mapping_of(entry).get("filename")) or "(no filename)"
            result.skipped.append(Skipped(filename, read))
        else:
            files.append(read)
    return files


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _known_files(db: Session, files: Iterable[ListedFile]) -> _Taken:
    """The filenames and sha256 digests among ``files`` that the index already has."""
    files = list(files)
    names = sorted({f.filename for f in files})
    digests = sorted({f.sha256 for f in files})
    taken = _Taken()
    for chunk in _chunks(names):
        query = sa.select(FileRegistry.filename).where(FileRegistry.filename.in_(chunk))
        taken.names.update(dict.fromkeys(db.scalars(query)))
    columns = (ReleaseFile.filename, ReleaseFile.sha256_digest, ReleaseFile.release_id)
    for column, values in ((ReleaseFile.filename, names), (ReleaseFile.sha256_digest, digests)):
        for chunk in _chunks(values):
            rows = db.execute(sa.select(*columns).where(column.in_(chunk)))
            for filename, sha256, release_id in rows:
                taken.add(filename, _KnownFile(release_id, sha256))
    return taken


def _new_release(
    package: Package, version: str, files: Sequence[ListedFile], info: Mapping[str, Any]
) -> Release:
    release = Release(
        package_id=package.id,
        version=version,
        url=fit(_release_url(package, version, info), Release, "url"),
        size=0,
        requires_python=_release_requires_python(version, files, info),
        comment=next((f.comment for f in files if f.comment), None),
    )
    uploaded = [f.uploaded for f in files if f.uploaded is not None]
    # Left unset when unknown, so the database's clock fills it in.
    if uploaded:
        release.created_date = min(uploaded)
    # PyPI yanks whole releases; the JSON API repeats the flag on each file.
    if files and all(f.yanked for f in files):
        release.yanked = True
        release.yanked_reason = next((f.yanked_reason for f in files if f.yanked_reason), None)
    return release


def _release_url(package: Package, version: str, info: Mapping[str, Any]) -> str:
    project_page = (
        text_of(info.get("package_url"))
        or text_of(info.get("project_url"))
        or f"https://pypi.org/project/{package.name}/"
    )
    return f"{project_page.rstrip('/')}/{version}/"


def _release_requires_python(
    version: str, files: Sequence[ListedFile], info: Mapping[str, Any]
) -> str | None:
    from_files = next((f.requires_python for f in files if f.requires_python), None)
    if from_files is not None:
        return from_files
    # Older documents have no per-file requires_python; info's holds for the newest release.
    if version == text_of(info.get("version")):
        return fit(text_of(info.get("requires_python")), Release, "requires_python")
    return None


def _attach_files(
    db: Session,
    release: Release,
    files: Sequence[ListedFile],
    taken: _Taken,
    result: ImportResult,
) -> list[ListedFile]:
    """Add the files the index does not have; return them."""
    fresh = []
    for file in files:
        clash = _clash(file, release, taken)
        if clash == "":
            result.files_present += 1
            continue
        if clash is not None:
            result.skipped.append(Skipped(file.filename, clash))
            continue
        db.add(_release_file(release, file))
        db.add(FileRegistry(filename=file.filename))
        release.size = (release.size or 0) + file.size
        taken.add(file.filename, _KnownFile(release.id, file.sha256))
        result.files_added += 1
        fresh.append(file)
    return fresh


def _clash(file: ListedFile, release: Release, taken: _Taken) -> str | None:
    """None when the file is new; "" when this very file is already here; otherwise why not."""
    if file.filename in taken.names:
        known = taken.names[file.filename]
        if known is None:
            return "the filename was used before and removed; a filename is never reused"
        if known.release_id == release.id and known.sha256 == file.sha256:
            return ""
        return "the filename is already on the index with other content or in another release"
    if file.sha256 in taken.digests:
        return "a file with the same sha256 digest is already on the index"
    return None


def _release_file(release: Release, file: ListedFile) -> ReleaseFile:
    release_file = ReleaseFile(
        release_id=release.id,
        filename=file.filename,
        packagetype=file.packagetype,
        python_version=file.python_version,
        size=file.size,
        sha256_digest=file.sha256,
        blake2_256_digest=file.blake2_256,
        md5_digest=file.md5,
        requires_python=file.requires_python,
        url=file.url,
        storage_path=None,
    )
    if file.uploaded is not None:
        release_file.created_date = file.uploaded
    return release_file
