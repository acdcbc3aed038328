"""Accepting a distribution file: PyPI's upload rules, then one registered file.

Both ways in, the legacy upload API (twine) and ``wheelyard import dists``, come through
here, in two steps, so that no write transaction waits for slow work:

1. :func:`prepare`, outside any transaction: the metadata, the client's fields, the filename,
   the size and digests, the archive and the README (rendered in a worker process with a
   deadline). What needs no table is done here, once, however often the write is retried.
2. :func:`register_prepared`, in the caller's write transaction: the checks that read
   tables (project name, permission, duplicates), then the rows (project, release, file,
   filename registry entry, owner, journal entries and an audit row) and the blobs (the
   file, and for a wheel its METADATA, served for PEP 658).

Refusals come in PyPI's order (metadata, project name, permission, filename, size and
digests, duplicates, the archive itself) as UploadErrors written for the uploader: what
step 1 finds wrong is kept and raised in step 2 at its place in that order.

Nothing here commits: the caller's transaction makes all rows appear together. The rows that
make a file unique (its filename and digest) are flushed before its blobs are written, and
the blobs before the caller commits. So a concurrent upload of the same file stops at that
flush, before storing anything; a blob that cannot be stored rolls the rows back; a committed
row never points to a missing blob; and only a crash between storing and committing can leave
a blob (content-addressed, harmless) that nothing points to.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
from dataclasses import dataclass

import sqlalchemy as sa
from packaging.metadata import Metadata, RawMetadata
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from sqlalchemy.orm import Session

from wheelyard import versions
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.maintainer import Maintainer, Role
from wheelyard.data.package import Package, Visibility
from wheelyard.data.release import Release
from wheelyard.data.release_file import ReleaseFile
from wheelyard.data.trusted_publisher import TrustedPublisher
from wheelyard.services import audit, clock, journal
from wheelyard.services.audit import Origin
from wheelyard.services.naming import normalize_name
from wheelyard.services.oidc import minting, publisher_tokens, publishers
from wheelyard.services.projects import readme
from wheelyard.services.projects.packages import latest_release
from wheelyard.services.projects.release_files import METADATA_SUFFIX
from wheelyard.services.projects.release_metadata import from_raw
from wheelyard.services.uploads.archives import (
    SDIST,
    WHEEL,
    DistributionError,
    DistributionMetadata,
    read_distribution,
)
from wheelyard.services.uploads.auth import Uploader
from wheelyard.services.uploads.description import describe
from wheelyard.services.uploads.duplicates import find_duplicate
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.filenames import check_filename
from wheelyard.services.uploads.incoming import (
    Digests,
    IncomingFile,
    check_claimed,
    check_client_fields,
    digest,
)
from wheelyard.services.uploads.limits import UNLIMITED, UploadLimits, check_upload_rate
from wheelyard.services.uploads.metadata import (
    KNOWN_METADATA_VERSIONS,
    metadata_from_archive,
    validate_metadata,
)
from wheelyard.services.uploads.permission import check_new_project_name, check_permission
from wheelyard.services.uploads.policy import UPLOAD_POLICY, Policy
from wheelyard.services.uploads.release_rules import (
    check_license_files,
    check_one_wheel_per_tags,
    check_version_spelling,
)
from wheelyard.storage.base import FileStorage, StorageError, content_path

NO_ORIGIN = Origin()  # the command line: no address, no user agent


class Outcome(enum.Enum):
    STORED = "stored"
    ALREADY_PRESENT = "already present"  # the same file again: nothing changed


@dataclass(frozen=True)
class Registered:
    release_file: ReleaseFile
    outcome: Outcome
    new_project: bool = False
    new_release: bool = False


# How long a README may take to render before the upload is refused (Settings has the knob).
DEFAULT_README_SECONDS = 10.0


@dataclass
class Prepared:
    """What an upload needs that touches no table, worked out before any transaction."""

    incoming: IncomingFile
    metadata: Metadata
    policy: Policy
    # The metadata as the uploader wrote it, which the release keeps (and PyPI shows).
    raw: RawMetadata
    dist: DistributionMetadata | None = None
    digests: Digests | None = None
    python_tag: str = ""
    description_html: str | None = None
    # Refusals found here, raised by register_prepared at their place in PyPI's order: the
    # first after the name and permission checks, the second after the duplicate checks.
    file_refusal: UploadError | None = None
    archive_refusal: UploadError | None = None


def prepare(
    incoming: IncomingFile,
    *,
    metadata: RawMetadata | None,
    policy: Policy = UPLOAD_POLICY,
    readme_seconds: float = DEFAULT_README_SECONDS,
) -> Prepared:
    """Step 1: every check and computation that needs no table; UploadError for the first
    two checks (metadata, client fields), the rest kept for register_prepared.

    ``metadata`` is what the client sent with the file; None takes it from the archive
    itself (imports).
    """
    dist: DistributionMetadata | None = None
    if metadata is None:
        dist = _read_archive(incoming)
        metadata = metadata_from_archive(dist.metadata)
    checked = validate_metadata(metadata, policy)
    if policy.client_fields:
        check_client_fields(incoming)
    prepared = Prepared(incoming, checked, policy, metadata, dist=dist)
    try:
        python_tag = check_filename(incoming, checked, policy)
        prepared.python_tag = incoming.pyversion or python_tag
        prepared.digests = digest(incoming.content, checked.name)
        check_claimed(incoming.claimed, prepared.digests)
    except UploadError as error:
        prepared.file_refusal = error
        return prepared
    try:
        if prepared.dist is None:
            prepared.dist = _read_archive(incoming)
            _check_archive_agrees(prepared.dist, checked)
        check_license_files(prepared.dist, metadata.get("metadata_version"), checked)
        prepared.description_html = _render_description(checked, readme_seconds)
    except UploadError as error:
        prepared.archive_refusal = error
    return prepared


def register_prepared(
    db: Session,
    storage: FileStorage,
    prepared: Prepared,
    *,
    uploader: Uploader | None,
    origin: Origin = NO_ORIGIN,
    new_visibility: Visibility = Visibility.PUBLIC,
    limits: UploadLimits = UNLIMITED,
) -> Registered:
    """Step 2: the checks that read tables, in order, then the rows and the blobs;
    UploadError (nothing written) when refused, after every other check by ``limits`` (the
    same file again, twine's --skip-existing, is never limited)."""
    checked = prepared.metadata
    package = db.get(Package, normalize_name(checked.name))
    if package is None:
        check_new_project_name(db, checked, prepared.policy, uploader)
    publisher = check_permission(db, uploader, package, checked)
    if prepared.file_refusal is not None:
        raise prepared.file_refusal
    assert prepared.digests is not None
    existing = find_duplicate(db, prepared.incoming.filename, prepared.digests)
    if existing is not None:
        return Registered(existing, Outcome.ALREADY_PRESENT)
    release = _find_release(db, package, checked.version) if package is not None else None
    if (
        prepared.incoming.filetype == SDIST
        and release is not None
        and any(other.packagetype == SDIST for other in release.files)
    ):
        raise UploadError("Only one sdist may be uploaded per release.")
    if prepared.policy.pypi_name_rules:
        if release is not None:
            check_version_spelling(release, checked)
        if prepared.incoming.filetype == WHEEL:
            check_one_wheel_per_tags(db, release, prepared.incoming.filename)
    if prepared.archive_refusal is not None:
        raise prepared.archive_refusal
    user_id = uploader.user_id if uploader is not None else None
    check_upload_rate(db, limits, user_id, new_project=package is None)
    return _write(
        db,
        storage,
        prepared,
        package=package,
        release=release,
        uploader=uploader,
        publisher=publisher,
        origin=origin,
        new_visibility=new_visibility,
    )


def register_file(
    db: Session,
    storage: FileStorage,
    incoming: IncomingFile,
    *,
    metadata: RawMetadata | None,
    uploader: Uploader | None,
    origin: Origin = NO_ORIGIN,
    policy: Policy = UPLOAD_POLICY,
    readme_seconds: float = DEFAULT_README_SECONDS,
) -> Registered:
    """Both steps in one, for callers that hold no lock worth sparing (tests; the command
    line's imports, one file at a time): UploadError (nothing written) when refused."""
    prepared = prepare(incoming, metadata=metadata, policy=policy, readme_seconds=readme_seconds)
    return register_prepared(db, storage, prepared, uploader=uploader, origin=origin)


def _render_description(metadata: Metadata, seconds: float) -> str | None:
    try:
        return readme.render_bounded(
            metadata.description, metadata.description_content_type, seconds=seconds
        )
    except readme.ReadmeTooSlow as error:
        raise UploadError(str(error)) from error


# --- the archive ------------------------------------------------------------------------------


def _read_archive(incoming: IncomingFile) -> DistributionMetadata:
    try:
        return read_distribution(incoming.content, incoming.filename)
    except DistributionError as error:
        raise UploadError(f"Invalid distribution file. {error}") from error


def _check_archive_agrees(dist: DistributionMetadata, metadata: Metadata) -> None:
    """The metadata inside the file must be of a known version and name the project and
    version being uploaded."""
    inside = metadata_from_archive(dist.metadata)
    declared = inside.get("metadata_version")
    if declared not in KNOWN_METADATA_VERSIONS:
        raise UploadError(
            f"Invalid distribution file. {dist.member} declares Metadata-Version "
            f"{declared!r}, which is not a known metadata version."
        )
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


# --- the rows and the blobs -------------------------------------------------------------------


def _find_release(db: Session, package: Package, version: Version) -> Release | None:
    # sort_key ignores trailing zeros, so "1.0" finds the release uploaded as "1.0.0".
    key = versions.parse(str(version)).sort_key
    query = sa.select(Release).where(Release.package_id == package.id, Release.sort_key == key)
    return db.scalars(query).first()


def _write(
    db: Session,
    storage: FileStorage,
    prepared: Prepared,
    *,
    package: Package | None,
    release: Release | None,
    uploader: Uploader | None,
    publisher: TrustedPublisher | None,
    origin: Origin,
    new_visibility: Visibility,
) -> Registered:
    incoming, metadata, dist, digests = (
        prepared.incoming,
        prepared.metadata,
        prepared.dist,
        prepared.digests,
    )
    assert dist is not None and digests is not None
    python_tag = prepared.python_tag
    now = clock.now()
    user_id = uploader.user_id if uploader is not None else None
    storage_path = content_path(digests.blake2_256, incoming.filename)
    metadata_sha256: str | None = None
    if dist.packagetype == WHEEL:
        metadata_sha256 = hashlib.sha256(dist.metadata).hexdigest()

    new_project = package is None
    if package is None:
        package = Package(
            id=normalize_name(metadata.name), name=metadata.name, visibility=new_visibility
        )
        db.add(package)
        db.flush()
        # A pending trusted publisher's project is owned by whoever added the publisher.
        owner_id = publisher.added_by if publisher is not None else user_id
        if owner_id is not None:
            db.add(Maintainer(user_id=owner_id, package_id=package.id, role=Role.OWNER))
        if publisher is not None:
            publisher.pending = False
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
            # Its own metadata, kept whatever later releases bring.
            core_metadata=from_raw(prepared.raw, description_html=prepared.description_html),
        )
        db.add(release)
        db.flush()
    release_file = ReleaseFile(
        # Through the relationship, so a release's loaded list of files includes this one.
        release=release,
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
        published_from=publisher_tokens.provenance(publisher) if publisher is not None else None,
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
            describe(db, package, metadata, prepared.description_html)
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
    if publisher is not None and uploader is not None and uploader.publisher_token is not None:
        how += (
            f", trusted publisher {publisher.id}: {publishers.describe(publisher)}; claims "
            f"{minting.audited_claims(uploader.publisher_token.claims)}"
        )
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
    """The file's bytes, and a wheel's METADATA beside them (PEP 658).

    When the METADATA cannot be stored, a blob this call stored is taken back: the upload
    fails whole, and leaves no blob that no row will ever name.
    """
    was_there = storage.exists(path)
    incoming.content.seek(0)
    storage.put(path, incoming.content)
    incoming.content.seek(0)
    if dist.packagetype != WHEEL:
        return
    try:
        storage.put(path + METADATA_SUFFIX, io.BytesIO(dist.metadata))
    except StorageError:
        if not was_there:
            with contextlib.suppress(StorageError):
                storage.delete(path)
        raise


def _text(value: object | None) -> str | None:
    return str(value) if value is not None else None
