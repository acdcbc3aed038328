"""services.uploads.duplicates: the same file again, or a filename or content already taken."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.data.file_registry import FileRegistry
from wheelyard.data.release_file import ReleaseFile
from wheelyard.services.uploads.duplicates import find_duplicate
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.incoming import Digests


@pytest.fixture
def stored(db: Session, make: Factory) -> ReleaseFile:
    release_file = make.package("tiny-lib").releases[0].files[0]
    db.add(FileRegistry(filename=release_file.filename))
    db.flush()
    return release_file


def digests(sha256: str) -> Digests:
    return Digests(size=1, md5="0" * 32, sha256=sha256, blake2_256="0" * 64)


def refusal(db: Session, filename: str, sha256: str) -> str:
    with pytest.raises(UploadError) as caught:
        find_duplicate(db, filename, digests(sha256))
    assert caught.value.status == 400
    return caught.value.message


def test_a_new_file_is_no_duplicate(db: Session, stored: ReleaseFile) -> None:
    assert find_duplicate(db, "tiny_lib-2.0-py3-none-any.whl", digests("1" * 64)) is None


def test_the_same_file_again_is_found(db: Session, stored: ReleaseFile) -> None:
    assert find_duplicate(db, stored.filename, digests(stored.sha256_digest)) is stored


def test_the_same_filename_with_other_content_is_refused(db: Session, stored: ReleaseFile) -> None:
    assert refusal(db, stored.filename, "1" * 64) == (
        f"File already exists: {stored.filename!r} is already on this index with other "
        "content. Upload a new version instead."
    )


def test_a_filename_once_used_is_never_reused(db: Session, stored: ReleaseFile) -> None:
    db.delete(stored)  # the file was removed; its name stays in the registry
    db.flush()
    message = refusal(db, stored.filename, stored.sha256_digest)
    assert message.startswith("This filename has already been used, use a different version")


def test_the_same_content_under_another_name_is_refused(db: Session, stored: ReleaseFile) -> None:
    message = refusal(db, "tiny_lib-1.0-py2.py3-none-any.whl", stored.sha256_digest)
    assert message == (
        f"File already exists: the same content is on this index as {stored.filename!r}."
    )
