"""Reading a distribution file safely: archive checks, then its core metadata.

Wheels and sdists come from strangers and end up unpacked on other people's machines, so
before an archive is accepted we check what an unpacking client would meet: member paths
that stay inside the target directory (nothing absolute, no ``..``), no links that lead out
of an sdist, no device files, no zip member named twice (unpackers disagree on which one
wins), and a compression ratio that no honest archive reaches (zip and gzip bombs).
Nothing is extracted from a zip: only its core metadata is ever decompressed, and only up
to a size cap. A tarball is streamed to its very end through a counter that stops a bomb
early, so that nothing can hide past the end-of-archive marker where tar readers stop.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from wheelyard.services.uploads.archive_links import ArchiveLinks, EscapingLink

WHEEL = "bdist_wheel"
SDIST = "sdist"
WHEEL_SUFFIX = ".whl"
SDIST_SUFFIXES = (".tar.gz", ".zip")

# Core metadata bigger than this is not metadata; it is never inflated.
MAX_METADATA_SIZE = 8 * 1024 * 1024
# Source and compiled code compress 2-10x; PyPI refuses archives beyond 50x.
MAX_COMPRESSION_RATIO = 50
# Below this much unpacked data the ratio is not judged: tar pads every member to 512 bytes,
# so a tiny sdist of tiny files reaches silly ratios while being harmless.
RATIO_EXEMPT_SIZE = 4 * 1024 * 1024
# Whatever the ratio, no distribution unpacks to more than this.
MAX_UNPACKED_SIZE = 2 * 1024 * 1024 * 1024

_WHEEL_METADATA = re.compile(r"^(?P<dir>[^/]+)\.dist-info/METADATA$")
_CHUNK = 1024 * 1024


class DistributionError(ValueError):
    """The file is not a distribution we accept; the message says why, for the uploader."""


@dataclass(frozen=True)
class DistributionMetadata:
    """What an archive says about itself."""

    packagetype: str  # WHEEL or SDIST
    metadata: bytes  # the METADATA (wheel) or PKG-INFO (sdist) bytes, as stored
    member: str  # where in the archive they were found
    # Every member's normalized path: what License-File entries must name.
    names: frozenset[str] = frozenset()


def packagetype_of(filename: str) -> str | None:
    """WHEEL or SDIST by the file's extension; None for anything else."""
    if filename.endswith(WHEEL_SUFFIX):
        return WHEEL
    if filename.endswith(SDIST_SUFFIXES):
        return SDIST
    return None


def archive_stem(filename: str) -> str:
    """``foo-1.0.tar.gz`` -> ``foo-1.0``: the directory an sdist unpacks into."""
    for suffix in (WHEEL_SUFFIX, *SDIST_SUFFIXES):
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def read_distribution(source: BinaryIO, filename: str) -> DistributionMetadata:
    """Check the archive ``source`` (seekable) and return its core metadata.

    Raises DistributionError when the archive is damaged, unsafe or has no metadata.
    """
    packagetype = packagetype_of(filename)
    if packagetype is None:
        raise DistributionError("Unknown distribution format: use .whl, .tar.gz or .zip.")
    size = _size_of(source)
    try:
        if filename.endswith(".tar.gz"):
            return _read_tarball(source, size, filename)
        return _read_zip(source, size, filename, packagetype)
    # Damaged or exotic archives (bad CRC, truncation, encryption, unknown compression).
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
        UnicodeDecodeError,
    ) as error:
        raise DistributionError(f"The archive cannot be read ({_describe(error)}).") from error
    finally:
        source.seek(0)


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__


def _size_of(source: BinaryIO) -> int:
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    return size


def _unpacked_limit(compressed_size: int) -> int:
    return min(max(RATIO_EXEMPT_SIZE, compressed_size * MAX_COMPRESSION_RATIO), MAX_UNPACKED_SIZE)


def _check_member_path(name: str) -> None:
    """Refuse a member that would land outside the directory it is unpacked into."""
    if not name or "\0" in name:
        raise DistributionError("The archive has a member without a usable name.")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        raise DistributionError(f"The archive member {name!r} has an absolute path.")
    if ".." in PurePosixPath(unified).parts:
        raise DistributionError(f"The archive member {name!r} reaches outside the archive.")


# --- zip: wheels and .zip sdists ------------------------------------------------------------


def _read_zip(source: BinaryIO, size: int, filename: str, packagetype: str) -> DistributionMetadata:
    with zipfile.ZipFile(source) as archive:
        members = archive.infolist()
        names: set[str] = set()
        for member in members:
            _check_member_path(member.filename)
            _check_zip_member_type(member)
            if member.filename in names:
                raise DistributionError(
                    f"The archive has more than one member named {member.filename!r}."
                )
            names.add(member.filename)
        # The sizes come from the central directory, so this costs no decompression and
        # also catches overlapping-entry bombs, whose members all claim the same bytes.
        unpacked = sum(member.file_size for member in members)
        if unpacked > _unpacked_limit(size):
            raise DistributionError(
                f"The archive unpacks to {unpacked:,} bytes from {size:,}, beyond the "
                f"compression ratio limit of {MAX_COMPRESSION_RATIO}."
            )
        if packagetype == WHEEL:
            member = _wheel_metadata_member(members, filename)
        else:
            member = _sdist_metadata_member(members, filename)
        if member.file_size > MAX_METADATA_SIZE:
            raise DistributionError(f"{member.filename} is larger than metadata can be.")
        return DistributionMetadata(
            packagetype,
            archive.read(member),
            member.filename,
            frozenset(posixpath.normpath(name) for name in names),
        )


def _check_zip_member_type(member: zipfile.ZipInfo) -> None:
    """Refuse a member that Unix unpackers would make a link, device or pipe."""
    kind = stat.S_IFMT(member.external_attr >> 16)  # the Unix mode, when a Unix tool set one
    if kind == stat.S_IFLNK:
        raise DistributionError(f"The archive member {member.filename!r} is a symbolic link.")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise DistributionError(f"The archive member {member.filename!r} is not a regular file.")


def _wheel_metadata_member(members: Iterable[zipfile.ZipInfo], filename: str) -> zipfile.ZipInfo:
    """The ``<name>-<version>.dist-info/METADATA`` that belongs to this wheel's name."""
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as error:
        raise DistributionError(f"Invalid wheel filename: {error}") from error
    matches = []
    for member in members:
        found = _WHEEL_METADATA.match(member.filename)
        if found is None:
            continue
        dir_name, _, dir_version = found["dir"].rpartition("-")
        if canonicalize_name(dir_name) == name and _same_version(dir_version, str(version)):
            matches.append(member)
    if len(matches) != 1:
        expected = "-".join(filename.split("-")[:2]) + ".dist-info/METADATA"
        raise DistributionError(
            f"Wheel {filename!r} does not contain exactly one METADATA file at {expected}."
        )
    return matches[0]


def _same_version(left: str, right: str) -> bool:
    try:
        return Version(left) == Version(right)
    except InvalidVersion:
        return left == right


def _sdist_metadata_member(members: Iterable[zipfile.ZipInfo], filename: str) -> zipfile.ZipInfo:
    by_name = {member.filename: member for member in members if not member.is_dir()}
    chosen = _choose_pkg_info(by_name, filename)
    return by_name[chosen]


def _choose_pkg_info(names: Iterable[str], filename: str) -> str:
    """The sdist's ``<name>-<version>/PKG-INFO`` (or its only top-level one)."""
    candidates = [name for name in names if re.fullmatch(r"[^/]+/PKG-INFO", name)]
    expected = f"{archive_stem(filename)}/PKG-INFO"
    if expected in candidates:
        return expected
    if len(candidates) == 1:
        return candidates[0]
    raise DistributionError(f"The sdist {filename!r} does not contain a PKG-INFO file.")


# --- tar.gz: sdists ---------------------------------------------------------------------------


class _BoundedReader(io.RawIOBase):
    """Reads the decompressed stream, refusing to go past ``limit`` bytes (a gzip bomb)."""

    def __init__(self, stream: io.BufferedIOBase, limit: int, compressed_size: int) -> None:
        self._stream = stream
        self._limit = limit
        self._compressed_size = compressed_size
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        self.count += len(data)
        if self.count > self._limit:
            raise DistributionError(
                f"The archive unpacks to more than {self._limit:,} bytes from "
                f"{self._compressed_size:,}, beyond the compression ratio limit of "
                f"{MAX_COMPRESSION_RATIO}."
            )
        buffer[: len(data)] = data
        return len(data)


def _read_tarball(source: BinaryIO, size: int, filename: str) -> DistributionMetadata:
    found: dict[str, bytes] = {}
    with gzip.GzipFile(fileobj=source, mode="rb") as unzipped:
        bounded = io.BufferedReader(_BoundedReader(unzipped, _unpacked_limit(size), size), _CHUNK)
        # Stream mode ("r|"): one pass, members read in order, no seeking in the gzip.
        with tarfile.open(fileobj=bounded, mode="r|") as archive:
            names: set[str] = set()
            links = ArchiveLinks()
            for member in archive:
                _check_tar_member(member, links)
                # Unpacking would let the last of two same-named members win, whatever the
                # first one was when it was checked (zip archives are held to the same).
                name = posixpath.normpath(member.name)
                if name in names:
                    raise DistributionError(
                        f"The archive has more than one member named {member.name!r}."
                    )
                names.add(name)
                if member.isfile() and re.fullmatch(r"[^/]+/PKG-INFO", member.name):
                    if member.size > MAX_METADATA_SIZE:
                        raise DistributionError(f"{member.name} is larger than metadata can be.")
                    extracted = archive.extractfile(member)
                    assert extracted is not None  # a regular file always has content
                    found[member.name] = extracted.read()
        # Tar readers stop at the end-of-archive marker; the gzip stream may go on (a bomb,
        # or a damaged or cut-off end). Reading it out makes the counter and gzip's own
        # length and CRC checks see all of it.
        while bounded.read(_CHUNK):
            pass
    try:
        links.check_all()
    except EscapingLink as error:
        message = f"The archive member {error.name!r} links outside the archive."
        raise DistributionError(message) from error
    chosen = _choose_pkg_info(found, filename)
    return DistributionMetadata(SDIST, found[chosen], chosen, frozenset(names))


def _check_tar_member(member: tarfile.TarInfo, links: ArchiveLinks) -> None:
    _check_member_path(member.name)
    if member.isfile() or member.isdir():
        return
    if member.issym() or member.islnk():
        # A link is followed when unpacking: where it leads, through the archive's other
        # links too, must stay inside as well.
        target = member.linkname.replace("\\", "/")
        try:
            if member.issym():
                links.add_symlink(member.name, target)
            else:
                links.add_hardlink(member.name, target)
        except EscapingLink as error:
            raise DistributionError(
                f"The archive member {member.name!r} links outside the archive."
            ) from error
        return
    raise DistributionError(f"The archive member {member.name!r} is not a regular file.")
