"""Importing PyPI JSON API documents (the body of https://pypi.org/pypi/<name>/json).

A document describes one project: ``info`` (the metadata of its newest release),
``releases`` (every version with its files) and ``urls`` (the newest release's files).
``import_document`` adds what the database does not have yet: the project, its releases,
their files (known by URL only: the blobs stay on PyPI), the authors and maintainers as users
who cannot log in, and the journal entries that tell page caches and mirrors about it.

It only ever adds. A row that is already there is left as it is, so importing the same
documents again changes nothing, and a newer dump of a project brings only what is new. The
project's descriptive columns are refreshed only when the document brings a new release,
because that is when ``info`` describes something the index did not show before.

It never commits: the command gives each document its own transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard import versions
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.modelbase import SqlAlchemyBase
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.user import User
from wheelyard.services import journal
from wheelyard.services.accounts.users import find_user_by_email, normalize_email
from wheelyard.services.naming import is_valid_project_name, normalize_name
from wheelyard.services.projects import readme
from wheelyard.services.projects.classifiers import describe_by_classifiers
from wheelyard.services.projects.project_urls import labelled_url

# distutils wrote this into every metadata field nobody filled in; it means "not given".
_PLACEHOLDER = "UNKNOWN"
_HEX = re.compile(r"^[0-9a-f]+$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# "Ada Lovelace; Charles Babbage" beside "ada@x, charles@y": one name per address.
_NAME_SEPARATORS = re.compile(r"\s*[,;]\s*")
_BRACKETED_ADDRESS = re.compile(r"\s*<[^>]*>")
# Bound parameters per IN (...) query; far below SQLite's and PostgreSQL's limits.
_CHUNK = 500


class DocumentError(ValueError):
    """The document cannot be imported at all; the message says why, for the operator."""


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
class _File:
    """One entry of a release's file list, checked and cleaned."""

    filename: str
    packagetype: str
    size: int
    sha256: str
    md5: str | None
    blake2_256: str | None
    python_version: str | None
    requires_python: str | None
    uploaded: dt.datetime | None
    url: str | None
    comment: str | None
    yanked: bool
    yanked_reason: str | None


@dataclass(frozen=True)
class _Person:
    name: str
    email: str  # normalized


@dataclass(frozen=True)
class _KnownFile:
    release_id: int
    sha256: str


@dataclass(frozen=True)
class _Change:
    release: Release
    files: list[_File]  # the files added to it now
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


# --- reading the document ---------------------------------------------------------------------


def parse_document(data: bytes | str) -> Mapping[str, Any]:
    """The document as a mapping; DocumentError when it is not JSON or not an object."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise DocumentError(f"not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise DocumentError("not a PyPI JSON document: the top level is not an object")
    return document


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    """A metadata string, or None for anything that is not one, empty or the placeholder."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and value != _PLACEHOLDER else None


@functools.cache
def _width(model: type[SqlAlchemyBase], column: str) -> int:
    length = getattr(sa.inspect(model).columns[column].type, "length", None)
    return length if isinstance(length, int) else sys.maxsize


def _fit(value: str | None, model: type[SqlAlchemyBase], column: str) -> str | None:
    """Cut descriptive text to its column: a long summary must not cost the whole project."""
    return value[: _width(model, column)] if value is not None else None


def _timestamp(value: object) -> dt.datetime | None:
    """PyPI's upload time as naive UTC (older documents give it without a zone, in UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _hex(value: object, length: int) -> str | None:
    text = _text(value)
    if text is None or len(text) != length:
        return None
    text = text.lower()
    return text if _HEX.match(text) else None


def _read_file(entry: object) -> _File | str:
    """The file entry, or why it cannot be taken."""
    data = _mapping(entry)
    filename = _text(data.get("filename"))
    if filename is None:
        return "the entry has no filename"
    if len(filename) > _width(ReleaseFile, "filename") or "/" in filename or "\\" in filename:
        return "the filename is not a plain file name"
    digests = _mapping(data.get("digests"))
    sha256 = _hex(digests.get("sha256"), 64)
    if sha256 is None:
        return "the entry has no valid sha256 digest"
    size = data.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "the entry has no valid size"
    packagetype = _text(data.get("packagetype"))
    if packagetype is None or len(packagetype) > _width(ReleaseFile, "packagetype"):
        return "the entry has no valid packagetype"
    return _File(
        filename=filename,
        packagetype=packagetype,
        size=size,
        sha256=sha256,
        md5=_hex(digests.get("md5") or data.get("md5_digest"), 32),
        # PyPI names it blake2b_256; accept the column's own spelling too.
        blake2_256=_hex(digests.get("blake2b_256") or digests.get("blake2_256"), 64),
        python_version=_fit(_text(data.get("python_version")), ReleaseFile, "python_version"),
        requires_python=_fit(_text(data.get("requires_python")), ReleaseFile, "requires_python"),
        uploaded=_timestamp(data.get("upload_time_iso_8601") or data.get("upload_time")),
        url=_fit(_text(data.get("url")), ReleaseFile, "url"),
        comment=_text(data.get("comment_text")),
        yanked=data.get("yanked") is True,
        yanked_reason=_text(data.get("yanked_reason")),
    )


def _listed_releases(document: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, list[Any]]:
    """version -> raw file entries, including the newest release when only ``urls`` lists it."""
    releases = {
        version: files if isinstance(files, list) else []
        for version, files in _mapping(document.get("releases")).items()
        if isinstance(version, str)
    }
    # The per-version document (/pypi/<name>/<version>/json) has no "releases" at all.
    newest = _text(info.get("version"))
    if newest is not None and newest not in releases and isinstance(document.get("urls"), list):
        releases[newest] = document["urls"]
    return releases


# --- importing --------------------------------------------------------------------------------


def import_document(db: Session, document: Mapping[str, Any]) -> ImportResult:
    """Add what ``document`` lists and the database lacks; DocumentError if it names no project."""
    info = _mapping(document.get("info"))
    name = _text(info.get("name"))
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
    changes = _add_releases(db, package, _listed_releases(document, info), info, result)
    if result.new_project or result.releases_added:
        _describe(db, package, info)
        result.users_added = _add_people(db, package, info)
    uploads = [f.uploaded for change in changes for f in change.files if f.uploaded is not None]
    newest = max(uploads, default=None)
    if newest is not None and (package.last_updated is None or newest > package.last_updated):
        package.last_updated = newest
    db.flush()
    # The collection holds the new releases in the order they were added; reload it sorted.
    db.expire(package, ["releases"])
    return result


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


def _storable(listed: Mapping[str, Sequence[Any]], result: ImportResult) -> dict[str, list[_File]]:
    """version -> its readable files, oldest version first, so serials follow history."""
    entries = {}
    for version in sorted(listed, key=versions.sort_key):
        if not version.strip() or len(version) > _width(Release, "version"):
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


def _readable(entries: Sequence[Any], result: ImportResult) -> list[_File]:
    files = []
    for entry in entries:
        read = _read_file(entry)
        if isinstance(read, str):
            filename = _text(_mapping(entry).get("filename")) or "(no filename)"
            result.skipped.append(Skipped(filename, read))
        else:
            files.append(read)
    return files


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _known_files(db: Session, files: Iterable[_File]) -> _Taken:
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
    package: Package, version: str, files: Sequence[_File], info: Mapping[str, Any]
) -> Release:
    release = Release(
        package_id=package.id,
        version=version,
        url=_fit(_release_url(package, version, info), Release, "url"),
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
        _text(info.get("package_url"))
        or _text(info.get("project_url"))
        or f"https://pypi.org/project/{package.name}/"
    )
    return f"{project_page.rstrip('/')}/{version}/"


def _release_requires_python(
    version: str, files: Sequence[_File], info: Mapping[str, Any]
) -> str | None:
    from_files = next((f.requires_python for f in files if f.requires_python), None)
    if from_files is not None:
        return from_files
    # Older documents have no per-file requires_python; info's holds for the newest release.
    if version == _text(info.get("version")):
        return _fit(_text(info.get("requires_python")), Release, "requires_python")
    return None


def _attach_files(
    db: Session,
    release: Release,
    files: Sequence[_File],
    taken: _Taken,
    result: ImportResult,
) -> list[_File]:
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


def _clash(file: _File, release: Release, taken: _Taken) -> str | None:
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


def _release_file(release: Release, file: _File) -> ReleaseFile:
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


# --- the project's description ----------------------------------------------------------------


def _describe(db: Session, package: Package, info: Mapping[str, Any]) -> None:
    """Fill the project's descriptive columns from ``info`` (its newest release's metadata)."""
    description = _text(info.get("description"))
    content_type = _fit(
        _text(info.get("description_content_type")), Package, "description_content_type"
    )
    urls = {
        label: url
        for label, url in _mapping(info.get("project_urls")).items()
        if isinstance(label, str) and _text(url)
    }
    listed = info.get("classifiers")
    classifiers = [c for c in listed if isinstance(c, str)] if isinstance(listed, list) else []
    package.summary = _fit(_text(info.get("summary")), Package, "summary")
    # Rendered here, once, so page views never run the renderer; and again only when the
    # text changed, because rendering a long README costs more than the rest of the import.
    unchanged = (description, content_type) == (
        package.description,
        package.description_content_type,
    )
    if not unchanged or (description is not None and package.description_html is None):
        package.description_html = readme.render(description, content_type) if description else None
    package.description = description
    package.description_content_type = content_type
    package.keywords = _fit(_text(info.get("keywords")), Package, "keywords")
    package.home_page = _fit(
        _text(info.get("home_page")) or _labelled(urls, ("homepage", "home")), Package, "home_page"
    )
    package.docs_url = _fit(
        _text(info.get("docs_url")) or _labelled(urls, ("documentation", "docs")),
        Package,
        "docs_url",
    )
    package.package_url = _fit(
        _text(info.get("package_url")) or _text(info.get("project_url")), Package, "package_url"
    )
    package.author_name, package.author_email = _author(info)
    describe_by_classifiers(
        db,
        package,
        classifiers,
        license_expression=_text(info.get("license_expression")),
        license_text=_text(info.get("license")),
    )


def _labelled(urls: Mapping[str, str], labels: Sequence[str]) -> str | None:
    # Dumps say "UNKNOWN" or "" where a URL is missing: those count as none.
    return _text(labelled_url(urls, labels))


def _author(info: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(name, addresses) as PyPI shows the author; the maintainer stands in for a missing one."""
    names = _text(info.get("author")) or _text(info.get("maintainer"))
    emails = _text(info.get("author_email")) or _text(info.get("maintainer_email"))
    parsed = getaddresses([emails]) if emails else []
    addresses = ", ".join(address for _, address in parsed if address) or None
    if names is None:
        names = ", ".join(display for display, _ in parsed if display) or None
    return _fit(names, Package, "author_name"), _fit(addresses, Package, "author_email")


# --- people -----------------------------------------------------------------------------------


def _people(names: object, emails: object) -> list[_Person]:
    """One person per valid address in ``emails``, named as well as the metadata allows."""
    text = _text(emails)
    if text is None:
        return []
    parsed = [(display, address) for display, address in getaddresses([text]) if address]
    valid = [
        (display, normalize_email(address))
        for display, address in parsed
        if len(address) <= _width(User, "email") and _ADDRESS.match(address)
    ]
    whole = _text(names)
    paired = _NAME_SEPARATORS.split(whole) if whole else []
    people = []
    for position, (display, address) in enumerate(valid):
        if display:
            name = display
        elif len(paired) == len(valid) and len(valid) > 1:
            name = paired[position]
        else:
            name = whole or address
        name = _BRACKETED_ADDRESS.sub("", name).strip() or address
        people.append(_Person(_fit(name, User, "name") or address, address))
    return people


def _add_people(db: Session, package: Package, info: Mapping[str, Any]) -> int:
    """Link the authors (owners) and maintainers to the project; return the users created."""
    owners = _people(info.get("author"), info.get("author_email"))
    maintainers = _people(info.get("maintainer"), info.get("maintainer_email"))
    roles: dict[str, tuple[_Person, Role]] = {}
    # Owners first, so someone listed both ways stays an owner.
    for person in owners:
        roles.setdefault(person.email, (person, Role.OWNER))
    for person in maintainers:
        roles.setdefault(person.email, (person, Role.MAINTAINER))
    created = 0
    for person, role in roles.values():
        user = find_user_by_email(db, person.email)
        if user is None:
            user = User(name=person.name, email=person.email, hashed_password=None)
            db.add(user)
            db.flush()
            created += 1
        # An existing link keeps its role: the operator may have changed it since.
        if db.get(Maintainer, (user.id, package.id)) is None:
            db.add(Maintainer(user_id=user.id, package_id=package.id, role=role))
    return created
