"""A file already on the index: the same file again, or a clash of filename or content.

A filename is never reused, even after its file was removed (the filename registry keeps
it), and the same bytes are never stored under two names. The very same file sent again is
no clash: the upload reports it as already present and changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.incoming import Digests


def find_duplicate(db: Session, filename: str, digests: Digests) -> ReleaseFile | None:
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
