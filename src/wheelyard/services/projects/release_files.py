"""Where a release file lives: its download URL and the blob of its core metadata.

A stored file's blob sits at its content path (``storage.base.content_path``); for a wheel
the core metadata (PEP 658) sits beside it under the same name plus ``METADATA_SUFFIX``,
which is also the suffix of the metadata's URL. Uploads write there, the index serves from
there and the storage sweep keeps what is there; this module is the one that says where.
"""

from __future__ import annotations

from urllib.parse import quote

from wheelyard.data.release_file import ReleaseFile
from wheelyard.storage.base import content_path

METADATA_SUFFIX = ".metadata"


def file_url(release_file: ReleaseFile) -> str:
    """Where a file is downloaded from; the one place that decides the download URL scheme.

    Files we hold are served under ``/packages/`` followed by their storage path, which is
    PyPI's own layout (``ab/cd/<rest of the BLAKE2b-256>/<filename>``). Files only known by
    an imported record live upstream, at their recorded URL. "" when there is neither.
    """
    if release_file.storage_path is not None:
        return "/packages/" + quote(release_file.storage_path, safe="/+!")
    return release_file.url or ""


def metadata_path(release_file: ReleaseFile) -> str | None:
    """Where the file's core metadata (PEP 658) is stored, beside the distribution's blob.

    Derived from the file's digest and name, so no column is needed to find it.
    """
    if release_file.blake2_256_digest is None:
        return None
    return content_path(release_file.blake2_256_digest, release_file.filename + METADATA_SUFFIX)
