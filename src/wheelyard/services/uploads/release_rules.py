"""What a file must agree with beyond its own name: the release it joins, and its archive.

- A release is written one way: "1.0" takes no file built as "1.0.0" or "01.0", though
  the versions compare equal, or the release would list files of several spellings.
- A release holds one wheel per set of tags, even once a wheel was deleted (the filename
  registry remembers it): a second wheel for the same tags, under a build number, would
  let an installer pick either.
- PEP 639: each License-File of Metadata-Version 2.4 or later is in the archive, under
  the wheel's ``.dist-info/licenses/`` or the sdist's top directory.
"""

from __future__ import annotations

import posixpath

import sqlalchemy as sa
from packaging.metadata import Metadata
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version
from sqlalchemy.orm import Session

from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.release import Release
from wheelyard.services.uploads.archives import WHEEL, DistributionMetadata
from wheelyard.services.uploads.errors import UploadError

# License-File names files in the archive from this metadata version on (PEP 639).
LICENSE_FILES_SINCE = Version("2.4")


def check_version_spelling(release: Release, metadata: Metadata) -> None:
    written = str(metadata.version)
    if release.version != written:
        raise UploadError(
            f"Version {written!r} is release {release.version!r} written another way: "
            f"build the file as version {release.version!r}, or upload a new version."
        )


def _tags_of(filename: str) -> frozenset[str] | None:
    try:
        return frozenset(str(tag) for tag in parse_wheel_filename(filename)[3])
    except InvalidWheelFilename:
        return None


def check_one_wheel_per_tags(db: Session, release: Release | None, filename: str) -> None:
    """Also when the release itself was deleted: its wheels' names are still registered."""
    tags = _tags_of(filename)
    if tags is None:
        return
    others = (
        [file.filename for file in release.files if file.packagetype == WHEEL] if release else []
    )
    # Wheels of this release deleted since: their names stay in the registry.
    stem = filename.split("-", 2)[:2]
    prefix = f"{stem[0]}-{stem[1]}-"
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    others += db.scalars(
        sa.select(FileRegistry.filename).where(
            FileRegistry.filename.like(escaped + "%", escape="\\"),
            FileRegistry.filename.endswith(".whl"),
        )
    )
    for other in others:
        if other != filename and _tags_of(other) == tags:
            version = release.version if release is not None else stem[1]
            raise UploadError(
                f"Release {version!r} already has a wheel for these tags "
                f"({'.'.join(sorted(tags))}): {other!r}. A release keeps one wheel per set "
                "of tags; upload a new version instead."
            )


def check_license_files(
    dist: DistributionMetadata, declared: str | None, metadata: Metadata
) -> None:
    if not metadata.license_files or declared is None or Version(declared) < LICENSE_FILES_SINCE:
        return
    top = posixpath.dirname(dist.member)  # name-1.0.dist-info, or the sdist's directory
    for license_file in metadata.license_files:
        if dist.packagetype == WHEEL:
            path = posixpath.join(top, "licenses", license_file)
        else:
            path = posixpath.join(top, license_file)
        if posixpath.normpath(path) not in dist.names:
            raise UploadError(
                f"License-File {license_file} does not exist in the distribution file at {path}."
            )
