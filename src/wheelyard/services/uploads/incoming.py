"""The file as a client sends it: its form fields, the digests it claims, the digests it has.

A client (twine) says what kind of file it sends and which digests it computed; those
fields are checked before anything else about the file, and the claimed digests are
compared with the ones computed here from the bytes, read once and within the size limit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import BinaryIO

from wheelyard.services.uploads import policy
from wheelyard.services.uploads.archives import SDIST, WHEEL
from wheelyard.services.uploads.errors import UploadError, invalid_value

_HEX = re.compile(r"^[0-9a-f]+$", re.IGNORECASE)


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


@dataclass(frozen=True)
class Digests:
    """What the bytes that arrived measure: their size and the three digests PyPI keeps."""

    size: int
    md5: str
    sha256: str
    blake2_256: str


def check_client_fields(incoming: IncomingFile) -> None:
    """The filetype, pyversion, comment and claimed digests, as PyPI checks a client's form."""
    if incoming.filetype not in (SDIST, WHEEL):
        raise invalid_value("filetype", "Use a known file type: 'sdist' or 'bdist_wheel'.")
    if incoming.filetype == WHEEL and not incoming.pyversion:
        raise invalid_value(
            "pyversion", "Python version is required for binary distribution uploads."
        )
    if incoming.filetype == SDIST and incoming.pyversion not in (None, "", "source"):
        raise invalid_value("pyversion", "Use 'source' as Python version for an sdist.")
    if incoming.pyversion and len(incoming.pyversion) > policy.MAX_PYVERSION_LENGTH:
        raise invalid_value("pyversion", f"Use at most {policy.MAX_PYVERSION_LENGTH} characters.")
    for name, value in (("pyversion", incoming.pyversion), ("comment", incoming.comment)):
        if policy.contains_nul(value):
            raise invalid_value(name, policy.NUL_NOT_ALLOWED)
    claimed = incoming.claimed
    checks = (
        ("md5_digest", claimed.md5, 32, "MD5"),
        ("sha256_digest", claimed.sha256, 64, "SHA256"),
        ("blake2_256_digest", claimed.blake2_256, 64, "BLAKE2"),
    )
    for field, value, length, kind in checks:
        if value and (len(value) != length or not _HEX.match(value)):
            raise invalid_value(field, f"Use a valid, hex-encoded, {kind} message digest.")
    if not (claimed.md5 or claimed.sha256 or claimed.blake2_256):
        raise UploadError("Include at least one message digest.")


def digest(content: BinaryIO, project: str) -> Digests:
    """Size and digests of ``content``, read from its start; UploadError past the size limit.

    The limit is looked up in ``policy`` at each call, where the upload API reads it too.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    blake2 = hashlib.blake2b(digest_size=32)
    size = 0
    content.seek(0)
    while chunk := content.read(policy.MEGABYTE):
        size += len(chunk)
        if size > policy.MAX_FILE_SIZE:
            content.seek(0)
            raise UploadError(
                f"File too large. Limit for project {project!r} is "
                f"{policy.MAX_FILE_SIZE // policy.MEGABYTE} MB."
            )
        md5.update(chunk)
        sha256.update(chunk)
        blake2.update(chunk)
    content.seek(0)
    return Digests(size, md5.hexdigest(), sha256.hexdigest(), blake2.hexdigest())


def check_claimed(claimed: ClaimedDigests, actual: Digests) -> None:
    """Every digest the client claimed matches the bytes (case does not matter)."""
    pairs = (
        (claimed.md5, actual.md5),
        (claimed.sha256, actual.sha256),
        (claimed.blake2_256, actual.blake2_256),
    )
    if any(given and given.lower() != real for given, real in pairs):
        raise UploadError(
            "The digest supplied does not match a digest calculated from the uploaded file."
        )
