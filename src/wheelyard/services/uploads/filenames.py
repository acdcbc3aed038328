"""PyPI's rules for a distribution's filename: plain, of its filetype, naming its project.

The filename must agree with the metadata: a wheel's or sdist's name part is the project's
normalized name and its version part the release's. PEP 625 asks more of sdists (the name
written with "_" for every run of "-_."); imports of old folders are spared that rule.
"""

from __future__ import annotations

import re

from packaging.metadata import Metadata
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from wheelyard.services.uploads.archives import WHEEL, packagetype_of
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.incoming import IncomingFile
from wheelyard.services.uploads.policy import MAX_FILENAME_LENGTH, Policy


def check_filename(incoming: IncomingFile, metadata: Metadata, policy: Policy) -> str:
    """Check the filename against PyPI's rules; return its python tag (or "source")."""
    filename = incoming.filename
    if (
        not filename
        or len(filename) > MAX_FILENAME_LENGTH
        or filename.startswith(".")
        or any(c in filename for c in "/\\")
        or not filename.isprintable()
        or not filename.isascii()
        or any(c.isspace() for c in filename)
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
    if policy.pypi_name_rules and packagetype != WHEEL and not filename.endswith(".tar.gz"):
        # PEP 625: an sdist is a .tar.gz; PyPI takes no new .zip sdists.
        raise UploadError("Invalid file extension: an sdist is a .tar.gz (PEP 625), not a .zip.")
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
    if policy.pypi_name_rules:
        _check_canonical(filename, packagetype, prefix, str(metadata.version))
    return python_tag


def _check_canonical(filename: str, packagetype: str, prefix: str, version: str) -> None:
    """The name and version parts written in their one normalized form: "alice_proj" and
    "1.0", never "ALICE_PROJ", "Alice_Proj", "01.0". Otherwise one release could hold the
    same wheel under several names, each of them a filename never used before."""
    if packagetype == WHEEL:
        name_part, version_part = filename.split("-", 2)[:2]
    else:
        stem = filename.removesuffix(".tar.gz")
        name_part, _, version_part = stem.rpartition("-")
    if name_part != prefix:
        raise UploadError(
            f"Invalid filename {filename!r}: write the project's name as {prefix!r}, "
            "its normalized form."
        )
    if version_part != version:
        raise UploadError(
            f"Invalid filename {filename!r}: write the version as {version!r}, its normalized form."
        )


def _starts_with_project(filename: str, project: str) -> bool:
    head = filename.split("-", 1)[0]
    return canonicalize_name(head) == canonicalize_name(project)


def _wrong_start(project: str, prefix: str) -> UploadError:
    return UploadError(f"Start filename for {project!r} with {prefix!r}.")
