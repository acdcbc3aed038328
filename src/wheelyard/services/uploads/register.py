"""Accepting a distribution file: PyPI's upload rules, then one registered file.

Both ways in, the legacy upload API (twine) and ``wheelyard import dists``, come through
``register_file``. It checks in PyPI's order (metadata, project name, permission, filename,
size and digests, duplicates, the archive itself) and refuses with an UploadError whose
message is written for the uploader. When everything holds it adds the rows (project,
release, file, filename registry entry, owner, journal entries and an audit row) and stores
the blobs (the file, and for a wheel its METADATA, served for PEP 658).

It never commits: the caller's transaction makes all rows appear together. The rows that
make a file unique (its filename and digest) are flushed before its blobs are written, and
the blobs before the caller commits. So a concurrent upload of the same file stops at that
flush, before storing anything; a blob that cannot be stored rolls the rows back; a committed
row never points to a missing blob; and only a crash between storing and committing can leave
a blob (content-addressed, harmless) that nothing points to.
"""

from __future__ import annotations

import enum
import hashlib
import io
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import getaddresses
from typing import BinaryIO, cast

import packaging.metadata
import sqlalchemy as sa
import trove_classifiers
from packaging.metadata import InvalidMetadata, Metadata, RawMetadata, parse_email
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from sqlalchemy.orm import Session

from wheelyard import versions
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services import audit, clock, journal
from wheelyard.services.accounts import two_factor
from wheelyard.services.audit import Origin
from wheelyard.services.naming import MAX_NAME_LENGTH, is_valid_project_name, normalize_name
from wheelyard.services.projects import readme
from wheelyard.services.projects.classifiers import describe_by_classifiers
from wheelyard.services.projects.maintainers import role_of
from wheelyard.services.projects.packages import MAX_VERSION_LENGTH, latest_release
from wheelyard.services.projects.project_urls import labelled_url
from wheelyard.services.uploads.archives import (
    SDIST,
    WHEEL,
    DistributionError,
    DistributionMetadata,
    packagetype_of,
    read_distribution,
)
from wheelyard.services.uploads.auth import Uploader
from wheelyard.storage.base import FileStorage, content_path

NO_ORIGIN = Origin()  # the command line: no address, no user agent
MEGABYTE = 1024 * 1024
MAX_FILE_SIZE = 100 * MEGABYTE
MAX_FILENAME_LENGTH = 255
# A README longer than this is not a README, and rendering it would stall the upload.
MAX_DESCRIPTION_LENGTH = 4 * MEGABYTE
# What the columns hold; anything longer is refused rather than cut.
FIELD_LIMITS = {
    "summary": 512,
    "description_content_type": 128,
    "home_page": 1024,
    "download_url": 1024,
    "author": 512,
    "author_email": 512,
    "maintainer": 512,
    "maintainer_email": 512,
    "requires_python": 256,
    "keywords": 1024,
    "description": MAX_DESCRIPTION_LENGTH,
}
MAX_URL_LABEL_LENGTH = 32
MAX_URL_LENGTH = 1024
MAX_PYVERSION_LENGTH = 64  # release_files.python_version
METADATA_SUFFIX = ".metadata"
# PostgreSQL cannot store a NUL character in text; refused on every database alike.
NUL_NOT_ALLOWED = "Null bytes are not allowed."

# packaging knows which metadata versions exist but has no public list of them.
_PACKAGING_METADATA_VERSIONS: tuple[str, ...] = tuple(
    getattr(packaging.metadata, "_VALID_METADATA_VERSIONS", ())
) or ("1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4")
# "2.0" never existed as a standard, but bdist_wheel wrote it for years (it means 2.1).
KNOWN_METADATA_VERSIONS = ("2.0", *_PACKAGING_METADATA_VERSIONS)
_NEWEST_METADATA_VERSION = _PACKAGING_METADATA_VERSIONS[-1]
# The first problems worth reporting; the rest follow by field name.
_ERROR_ORDER = ("metadata_version", "name", "version")

_HEX = re.compile(r"^[0-9a-f]+$", re.IGNORECASE)
# New projects may not take the name of a public standard-library module (PyPI's rule).
_STDLIB_NAMES = frozenset(
    normalize_name(module) for module in sys.stdlib_module_names if not module.startswith("_")
)


class UploadError(Exception):
    """The file is refused; ``message`` is for the uploader, ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Policy:
    """Which rules a source of files is held to.

    Uploads get all of PyPI's rules. An import of a folder that another index has served
    for years (pypiserver's) is spared the rules PyPI only added later (PEP 625 sdist names,
    standard-library names, the current classifier list), so that old files still come in;
    the safety and consistency rules hold for both.
    """

    client_fields: bool  # filetype, pyversion and digests were sent by a client
    pypi_name_rules: bool  # PEP 625 sdist filenames, no standard-library project names
    known_classifiers_only: bool
    url_label_limit: bool


UPLOAD_POLICY = Policy(
    client_fields=True, pypi_name_rules=True, known_classifiers_only=True, url_label_limit=True
)
IMPORT_POLICY = Policy(
    client_fields=False, pypi_name_rules=False, known_classifiers_only=False, url_label_limit=False
)


@dataclass(frozen=True)
class ClaimedDigests:
    """The digests a client computed before sending; each must match what arrived."""

    md5: str | None = None
    sha256: str | None = None
    blake2_256: str | None = None


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content: BinaryIO  # seekable; read from the start, left at the start
    filetype: str  # "sdist" or "bdist_wheel"
    pyversion: str | None = None
    comment: str | None = None
    claimed: ClaimedDigests = ClaimedDigests()


class Outcome(enum.Enum):
    STORED = "stored"
    ALREADY_PRESENT = "already present"  # the same file again: nothing changed


@dataclass(frozen=True)
class Registered:
    release_file: ReleaseFile
    outcome: Outcome
    new_project: bool = False
    new_release: bool = False


@dataclass(frozen=True)
class _Digests:
    size: int
    md5: str
    sha256: str
    blake2_256: str


# --- metadata ---------------------------------------------------------------------------------


def _invalid(field: str, detail: str) -> UploadError:
    return UploadError(f"Invalid value for {field}. Error: {detail}")


def _form_name(field: str) -> str:
    """``Requires-Python`` (as packaging names fields) -> ``requires_python`` (as forms do)."""
    return field.lower().replace("-", "_")


def _error_rank(error: InvalidMetadata) -> tuple[int, str]:
    name = _form_name(error.field)
    return (_ERROR_ORDER.index(name) if name in _ERROR_ORDER else len(_ERROR_ORDER), name)


def validate_metadata(raw: RawMetadata, policy: Policy = UPLOAD_POLICY) -> Metadata:
    """The metadata, checked as PyPI checks it; UploadError for the first problem found.

    Fields newer than the declared Metadata-Version are accepted and validated all the
    same: setuptools wrote License-File into 2.1 metadata for years, and PyPI took it.
    """
    declared = raw.get("metadata_version")
    if not declared:
        raise _invalid("metadata_version", "This field is required.")
    if declared not in KNOWN_METADATA_VERSIONS:
        raise _invalid("metadata_version", f"Use a known metadata version, not {declared!r}.")
    for required in ("name", "version"):
        if not raw.get(required):
            raise _invalid(required, "This field is required.")
    for key, value in raw.items():
        if _has_nul(value):
            raise _invalid(key, NUL_NOT_ALLOWED)
    checked: RawMetadata = {**raw, "metadata_version": _NEWEST_METADATA_VERSION}
    try:
        metadata = Metadata.from_raw(checked, validate=True)
    except ExceptionGroup as group:
        problems = [error for error in _leaves(group) if isinstance(error, InvalidMetadata)]
        if not problems:
            raise
        first = min(problems, key=_error_rank)
        raise _invalid(_form_name(first.field), str(first)) from group
    _check_index_rules(raw, metadata, policy)
    return metadata


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterable[BaseException]:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            yield from _leaves(error)
        else:
            yield error


def _check_index_rules(raw: RawMetadata, metadata: Metadata, policy: Policy) -> None:
    if len(metadata.name) > MAX_NAME_LENGTH or not is_valid_project_name(metadata.name):
        raise _invalid(
            "name",
            "Start and end with a letter or numeral and use only ASCII letters, numerals, "
            f"'.', '_' and '-', at most {MAX_NAME_LENGTH} characters.",
        )
    if len(str(metadata.version)) > MAX_VERSION_LENGTH:
        raise _invalid("version", f"Use at most {MAX_VERSION_LENGTH} characters.")
    fields: dict[str, object] = {**raw, "keywords": ",".join(raw.get("keywords") or [])}
    for field, limit in FIELD_LIMITS.items():
        value = fields.get(field)
        if isinstance(value, str) and len(value) > limit:
            raise _invalid(field, f"Use at most {limit:,} characters.")
    for label, url in (raw.get("project_urls") or {}).items():
        if policy.url_label_limit and len(label) > MAX_URL_LABEL_LENGTH:
            raise _invalid(
                "project_urls", f"Use labels of at most {MAX_URL_LABEL_LENGTH} characters."
            )
        if len(url) > MAX_URL_LENGTH:
            raise _invalid("project_urls", f"Use URLs of at most {MAX_URL_LENGTH} characters.")
    if policy.known_classifiers_only:
        for classifier in raw.get("classifiers") or []:
            _check_classifier(classifier)


def _check_classifier(classifier: str) -> None:
    # "Private ::" marks a project that must never reach a public index; it is fine here.
    if classifier.startswith("Private ::"):
        return
    if classifier in trove_classifiers.deprecated_classifiers:
        raise _invalid("classifiers", f"Classifier {classifier!r} has been deprecated.")
    if classifier not in trove_classifiers.classifiers:
        raise _invalid("classifiers", f"Classifier {classifier!r} is not a valid classifier.")


def metadata_from_archive(data: bytes) -> RawMetadata:
    """The raw metadata in a METADATA or PKG-INFO file (headers it does not know are left out)."""
    raw, _unparsed = parse_email(data)
    return raw


# The upload form's names for core metadata fields (twine's), where they differ from
# packaging's RawMetadata keys.
_FORM_SINGLE_FIELDS = (
    "metadata_version",
    "name",
    "version",
    "summary",
    "description",
    "description_content_type",
    "home_page",
    "download_url",
    "author",
    "author_email",
    "maintainer",
    "maintainer_email",
    "license",
    "license_expression",
    "requires_python",
)
_FORM_LIST_FIELDS = {
    "platform": "platforms",
    "supported_platform": "supported_platforms",
    "classifiers": "classifiers",
    "requires": "requires",
    "provides": "provides",
    "obsoletes": "obsoletes",
    "requires_dist": "requires_dist",
    "provides_dist": "provides_dist",
    "obsoletes_dist": "obsoletes_dist",
    "requires_external": "requires_external",
    "provides_extra": "provides_extra",
    "dynamic": "dynamic",
    "license_file": "license_files",
    "import_name": "import_names",
    "import_namespace": "import_namespaces",
}


def metadata_from_form(fields: Mapping[str, Sequence[str]]) -> RawMetadata:
    """Core metadata from the upload form's fields (each name with all its values)."""
    raw: dict[str, object] = {}
    for name in _FORM_SINGLE_FIELDS:
        values = [value for value in fields.get(name, ()) if value]
        if values:
            raw[name] = values[0]
    for form_name, key in _FORM_LIST_FIELDS.items():
        values = [value.strip() for value in fields.get(form_name, ()) if value.strip()]
        if values:
            raw[key] = values
    # Older clients send keywords as one comma-separated string, newer ones one per field.
    keywords = [word.strip() for value in fields.get("keywords", ()) for word in value.split(",")]
    if any(keywords):
        raw["keywords"] = [word for word in keywords if word]
    urls: dict[str, str] = {}
    for value in fields.get("project_urls", ()):
        label, separator, url = value.partition(",")
        if not separator or not label.strip() or not url.strip():
            raise _invalid("project_urls", "Send each project URL as 'label, URL'.")
        urls[label.strip()] = url.strip()
    if urls:
        raw["project_urls"] = urls
    return cast("RawMetadata", raw)


# --- the client's form fields -----------------------------------------------------------------


def _check_client_fields(incoming: IncomingFile) -> None:
    if incoming.filetype not in (SDIST, WHEEL):
        raise _invalid("filetype", "Use a known file type: 'sdist' or 'bdist_wheel'.")
    if incoming.filetype == WHEEL and not incoming.pyversion:
        raise _invalid("pyversion", "Python version is required for binary distribution uploads.")
    if incoming.filetype == SDIST and incoming.pyversion not in (None, "", "source"):
        raise _invalid("pyversion", "Use 'source' as Python version for an sdist.")
    if incoming.pyversion and len(incoming.pyversion) > MAX_PYVERSION_LENGTH:
        raise _invalid("pyversion", f"Use at most {MAX_PYVERSION_LENGTH} characters.")
    for name, value in (("pyversion", incoming.pyversion), ("comment", incoming.comment)):
        if _has_nul(value):
            raise _invalid(name, NUL_NOT_ALLOWED)
    claimed = incoming.claimed
    checks = (
        ("md5_digest", claimed.md5, 32, "MD5"),
        ("sha256_digest", claimed.sha256, 64, "SHA256"),
        ("blake2_256_digest", claimed.blake2_256, 64, "BLAKE2"),
    )
    for field, value, length, kind in checks:
        if value and (len(value) != length or not _HEX.match(value)):
            raise _invalid(field, f"Use a valid, hex-encoded, {kind} message digest.")
    if not (claimed.md5 or claimed.sha256 or claimed.blake2_256):
        raise UploadError("Include at least one message digest.")


# --- the project and who may touch it ---------------------------------------------------------


def _check_new_project_name(metadata: Metadata, policy: Policy) -> None:
    if policy.pypi_name_rules and normalize_name(metadata.name) in _STDLIB_NAMES:
        raise UploadError(
            f"The name {metadata.name!r} isn't allowed: it is a module of the Python "
            "standard library."
        )


def _check_permission(
    db: Session, uploader: Uploader | None, package: Package | None, metadata: Metadata
) -> None:
    if uploader is None:
        return  # the operator, importing from the command line
    scope = uploader.project_scope
    if package is None:
        if scope is not None:
            raise UploadError(
                f"This API token is limited to project {scope!r}; it cannot create the new "
                f"project {metadata.name!r}.",
                status=403,
            )
        return
    if scope is not None and scope != package.id:
        raise UploadError(
            f"This API token is limited to project {scope!r}; it cannot upload to project "
            f"{package.name!r}.",
            status=403,
        )
    if role_of(db, uploader.user.id, package.id) is None:
        raise UploadError(
            f"The user {uploader.user.email!r} isn't allowed to upload to project "
            f"{package.name!r}.",
            status=403,
        )
    if two_factor.two_factor_required_but_missing(db, package, uploader.user):
        raise UploadError(two_factor.two_factor_required_message(package), status=403)


# --- the filename -----------------------------------------------------------------------------


def _check_filename(incoming: IncomingFile, metadata: Metadata, policy: Policy) -> str:
    """Check the filename against PyPI's rules; return its python tag (or "source")."""
    filename = incoming.filename
    if (
        not filename
        or len(filename) > MAX_FILENAME_LENGTH
        or filename.startswith(".")
        or any(c in filename for c in "/\\")
        or not filename.isprintable()
        or not filename.isascii()
    ):
        raise UploadError(f"Invalid filename {filename!r}: use the plain name the build gave it.")
    packagetype = packagetype_of(filename)
    if packagetype is None:
        raise UploadError("Invalid file extension: use .tar.gz, .whl or .zip.")
    if packagetype != incoming.filetype:
        raise UploadError(
            f"Invalid distribution file: {filename!r} is not of filetype {incoming.filetype!r}."
        )
    prefix = re.sub(r"[-_.]+", "_", metadata.name).lower()
    if packagetype == WHEEL:
        try:
            name, version, _build, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename as error:
            if not _starts_with_project(filename, metadata.name):
                raise _wrong_start(metadata.name, prefix) from error
            raise UploadError(f"Invalid wheel filename: {error}") from error
        python_tag = ".".join(sorted({tag.interpreter for tag in tags}))
    else:
        try:
            name, version = parse_sdist_filename(filename)
        except InvalidSdistFilename as error:
            if not _starts_with_project(filename, metadata.name):
                raise _wrong_start(metadata.name, prefix) from error
            raise UploadError(f"Invalid sdist filename: {error}") from error
        python_tag = "source"
        # PEP 625: the name part is the normalized name with "_" for runs of "-_.".
        if policy.pypi_name_rules and not filename.startswith(prefix + "-"):
            raise _wrong_start(metadata.name, prefix)
    if name != canonicalize_name(metadata.name):
        raise _wrong_start(metadata.name, prefix)
    if version != metadata.version:
        raise UploadError(
            f"Version in filename should be {str(metadata.version)!r} not {str(version)!r}."
        )
    return python_tag


def _starts_with_project(filename: str, project: str) -> bool:
    head = filename.split("-", 1)[0]
    return canonicalize_name(head) == canonicalize_name(project)


def _wrong_start(project: str, prefix: str) -> UploadError:
    return UploadError(f"Start filename for {project!r} with {prefix!r}.")


# --- the bytes --------------------------------------------------------------------------------


def _digest(content: BinaryIO, project: str) -> _Digests:
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    blake2 = hashlib.blake2b(digest_size=32)
    size = 0
    content.seek(0)
    while chunk := content.read(MEGABYTE):
        size += len(chunk)
        if size > MAX_FILE_SIZE:
            content.seek(0)
            raise UploadError(
                f"File too large. Limit for project {project!r} is {MAX_FILE_SIZE // MEGABYTE} MB."
            )
        md5.update(chunk)
        sha256.update(chunk)
        blake2.update(chunk)
    content.seek(0)
    return _Digests(size, md5.hexdigest(), sha256.hexdigest(), blake2.hexdigest())


def _check_claimed(claimed: ClaimedDigests, actual: _Digests) -> None:
    pairs = (
        (claimed.md5, actual.md5),
        (claimed.sha256, actual.sha256),
        (claimed.blake2_256, actual.blake2_256),
    )
    if any(given and given.lower() != real for given, real in pairs):
        raise UploadError(
            "The digest supplied does not match a digest calculated from the uploaded file."
        )


def _find_duplicate(db: Session, filename: str, digests: _Digests) -> ReleaseFile | None:
    """The identical file when it is already here; UploadError when the name or bytes clash."""
    # The registry is read first. A file and its registry entry are committed together, and
    # each statement (PostgreSQL's READ COMMITTED) sees what was committed when it began: in
    # the other order, a file committed between the two reads would pass for a removed one.
    used = db.scalar(sa.select(FileRegistry.id).where(FileRegistry.filename == filename))
    same_name = db.scalars(sa.select(ReleaseFile).where(ReleaseFile.filename == filename)).first()
    if same_name is not None:
        if same_name.sha256_digest == digests.sha256:
            return same_name
        raise UploadError(
            f"File already exists: {filename!r} is already on this index with other content. "
            "Upload a new version instead."
        )
    if used:
        raise UploadError(
            f"This filename has already been used, use a different version: {filename!r} "
            "was uploaded before and removed, and a filename is never reused."
        )
    same_bytes = db.scalars(
        sa.select(ReleaseFile).where(ReleaseFile.sha256_digest == digests.sha256)
    ).first()
    if same_bytes is not None:
        raise UploadError(
            f"File already exists: the same content is on this index as {same_bytes.filename!r}."
        )
    return None


def _read_archive(incoming: IncomingFile) -> DistributionMetadata:
    try:
        return read_distribution(incoming.content, incoming.filename)
    except DistributionError as error:
        raise UploadError(f"Invalid distribution file. {error}") from error


def _check_archive_agrees(dist: DistributionMetadata, metadata: Metadata) -> None:
    """The metadata inside the file must name the project and version being uploaded."""
    inside = metadata_from_archive(dist.metadata)
    name = inside.get("name") or ""
    version = inside.get("version") or ""
    try:
        same_version = Version(version) == metadata.version
    except InvalidVersion:
        same_version = False
    if canonicalize_name(name) != canonicalize_name(metadata.name) or not same_version:
        raise UploadError(
            f"Invalid distribution file. {dist.member} names {name!r} {version!r}, "
            f"but the upload is for {metadata.name!r} {str(metadata.version)!r}."
        )


# --- registering ------------------------------------------------------------------------------


def register_file(
    db: Session,
    storage: FileStorage,
    incoming: IncomingFile,
    *,
    metadata: RawMetadata | None,
    uploader: Uploader | None,
    origin: Origin = NO_ORIGIN,
    policy: Policy = UPLOAD_POLICY,
) -> Registered:
    """Check ``incoming`` and register it; UploadError (nothing written) when refused.

    ``metadata`` is what the client sent with the file; None takes it from the archive
    itself (imports). ``uploader`` None means the operator: no permission check, no owner.
    """
    dist: DistributionMetadata | None = None
    if metadata is None:
        dist = _read_archive(incoming)
        metadata = metadata_from_archive(dist.metadata)
    checked = validate_metadata(metadata, policy)
    if policy.client_fields:
        _check_client_fields(incoming)
    package = db.get(Package, normalize_name(checked.name))
    if package is None:
        _check_new_project_name(checked, policy)
    _check_permission(db, uploader, package, checked)
    python_tag = _check_filename(incoming, checked, policy)
    digests = _digest(incoming.content, checked.name)
    _check_claimed(incoming.claimed, digests)
    existing = _find_duplicate(db, incoming.filename, digests)
    if existing is not None:
        return Registered(existing, Outcome.ALREADY_PRESENT)
    release = _find_release(db, package, checked.version) if package is not None else None
    if (
        incoming.filetype == SDIST
        and release is not None
        and any(other.packagetype == SDIST for other in release.files)
    ):
        raise UploadError("Only one sdist may be uploaded per release.")
    if dist is None:
        dist = _read_archive(incoming)
        _check_archive_agrees(dist, checked)
    return _write(
        db,
        storage,
        incoming,
        checked,
        dist=dist,
        digests=digests,
        python_tag=incoming.pyversion or python_tag,
        package=package,
        release=release,
        uploader=uploader,
        origin=origin,
    )


def _find_release(db: Session, package: Package, version: Version) -> Release | None:
    # sort_key ignores trailing zeros, so "1.0" finds the release uploaded as "1.0.0".
    key = versions.parse(str(version)).sort_key
    query = sa.select(Release).where(Release.package_id == package.id, Release.sort_key == key)
    return db.scalars(query).first()


def _write(
    db: Session,
    storage: FileStorage,
    incoming: IncomingFile,
    metadata: Metadata,
    *,
    dist: DistributionMetadata,
    digests: _Digests,
    python_tag: str,
    package: Package | None,
    release: Release | None,
    uploader: Uploader | None,
    origin: Origin,
) -> Registered:
    now = clock.now()
    user_id = uploader.user.id if uploader is not None else None
    storage_path = content_path(digests.blake2_256, incoming.filename)
    metadata_sha256: str | None = None
    if dist.packagetype == WHEEL:
        metadata_sha256 = hashlib.sha256(dist.metadata).hexdigest()

    new_project = package is None
    if package is None:
        package = Package(id=normalize_name(metadata.name), name=metadata.name)
        db.add(package)
        db.flush()
        if uploader is not None:
            db.add(Maintainer(user_id=uploader.user.id, package_id=package.id, role=Role.OWNER))
        journal.record(db, package, journal.Action.CREATE, user_id=user_id)
    new_release = release is None
    if release is None:
        release = Release(
            package_id=package.id,
            version=str(metadata.version),
            requires_python=_text(metadata.requires_python),
            comment=incoming.comment or None,
            url=metadata.download_url,
            size=0,
        )
        db.add(release)
        db.flush()
    release_file = ReleaseFile(
        release_id=release.id,
        filename=incoming.filename,
        packagetype=dist.packagetype,
        python_version=python_tag,
        size=digests.size,
        sha256_digest=digests.sha256,
        blake2_256_digest=digests.blake2_256,
        md5_digest=digests.md5,
        requires_python=_text(metadata.requires_python),
        metadata_sha256=metadata_sha256,
        storage_path=storage_path,
        uploaded_by=user_id,
    )
    db.add(release_file)
    db.add(FileRegistry(filename=incoming.filename))
    # A concurrent upload of the same filename or bytes (or the same new project or release)
    # waits here until this transaction ends, then fails: it never gets to store its bytes.
    db.flush()
    _store(storage, incoming, dist, storage_path)
    release.size = (release.size or 0) + digests.size
    package.last_updated = now
    db.flush()
    if new_release:
        db.expire(package, ["releases"])
        if new_project or latest_release(package) is release:
            _describe(db, package, metadata)
        journal.record(
            db, package, journal.Action.NEW_RELEASE, version=release.version, user_id=user_id
        )
    journal.record(
        db,
        package,
        journal.Action.ADD_FILE,
        version=release.version,
        filename=incoming.filename,
        user_id=user_id,
    )
    how = uploader.describe() if uploader is not None else "command line import"
    audit.record(
        db,
        audit.Action.UPLOAD,
        origin=origin,
        user_id=user_id,
        package_id=package.id,
        detail=f"{incoming.filename} ({how})",
    )
    return Registered(release_file, Outcome.STORED, new_project, new_release)


def _store(
    storage: FileStorage, incoming: IncomingFile, dist: DistributionMetadata, path: str
) -> None:
    """The file's bytes, and a wheel's METADATA beside them (PEP 658)."""
    incoming.content.seek(0)
    storage.put(path, incoming.content)
    incoming.content.seek(0)
    if dist.packagetype == WHEEL:
        storage.put(path + METADATA_SUFFIX, io.BytesIO(dist.metadata))


def _text(value: object | None) -> str | None:
    return str(value) if value is not None else None


def _describe(db: Session, package: Package, metadata: Metadata) -> None:
    """Fill the project's descriptive columns from the metadata of its newest release."""
    package.summary = metadata.summary
    package.description = metadata.description
    package.description_content_type = metadata.description_content_type
    package.description_html = readme.render(
        metadata.description, metadata.description_content_type
    )
    package.keywords = ",".join(metadata.keywords) if metadata.keywords else None
    urls = metadata.project_urls or {}
    package.home_page = metadata.home_page or labelled_url(urls, ("homepage", "home"))
    package.docs_url = labelled_url(urls, ("documentation", "docs"))
    package.author_name, package.author_email = _people(
        metadata.author or metadata.maintainer,
        metadata.author_email or metadata.maintainer_email,
    )
    describe_by_classifiers(
        db,
        package,
        metadata.classifiers or [],
        license_expression=_text(metadata.license_expression),
        license_text=metadata.license,
    )


def _people(names: str | None, emails: str | None) -> tuple[str | None, str | None]:
    """(names, addresses): "Ada <ada@example.com>" puts Ada among the names, as PyPI shows it."""
    parsed = getaddresses([emails]) if emails else []
    addresses = [address for _, address in parsed if address]
    named = [name for name, _ in parsed if name]
    display = names or ", ".join(named) or None
    return _cut(display, 512), _cut(", ".join(addresses) or None, 512)


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None
