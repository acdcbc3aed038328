"""services.uploads.incoming: the client's form fields, and the digests claimed and computed."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from typing import Any

import pytest

from wheelyard.services.uploads import policy
from wheelyard.services.uploads.errors import UploadError
from wheelyard.services.uploads.incoming import (
    ClaimedDigests,
    Digests,
    IncomingFile,
    check_claimed,
    check_client_fields,
    digest,
)

CONTENT = b"the bytes of a wheel"
SHA256 = hashlib.sha256(CONTENT).hexdigest()
WHEEL_FILE = IncomingFile(
    filename="tiny_lib-1.0-py3-none-any.whl",
    content=io.BytesIO(CONTENT),
    filetype="bdist_wheel",
    pyversion="py3",
    claimed=ClaimedDigests(sha256=SHA256),
)


def test_a_wheels_and_an_sdists_fields_pass() -> None:
    check_client_fields(WHEEL_FILE)
    check_client_fields(replace(WHEEL_FILE, filetype="sdist", pyversion="source"))
    check_client_fields(replace(WHEEL_FILE, filetype="sdist", pyversion=None))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"filetype": "bdist_egg"}, "Invalid value for filetype. Error: Use a known file type"),
        ({"pyversion": None}, "Invalid value for pyversion. Error: Python version is required"),
        (
            {"filetype": "sdist", "pyversion": "py3"},
            "Invalid value for pyversion. Error: Use 'source' as Python version",
        ),
        ({"pyversion": "p" * 65}, "Invalid value for pyversion. Error: Use at most 64 characters."),
        ({"pyversion": "py\0"}, "Invalid value for pyversion. Error: Null bytes are not allowed."),
        ({"comment": "a\0b"}, "Invalid value for comment. Error: Null bytes are not allowed."),
        (
            {"claimed": ClaimedDigests(sha256="abc")},
            "Invalid value for sha256_digest. Error: Use a valid, hex-encoded, SHA256 message",
        ),
        (
            {"claimed": ClaimedDigests(blake2_256="z" * 64)},
            "Invalid value for blake2_256_digest. Error: Use a valid, hex-encoded, BLAKE2 message",
        ),
        (
            {"claimed": ClaimedDigests(md5="0" * 31)},
            "Invalid value for md5_digest. Error: Use a valid, hex-encoded, MD5 message digest.",
        ),
        ({"claimed": ClaimedDigests()}, "Include at least one message digest."),
    ],
)
def test_bad_client_fields_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(UploadError) as caught:
        check_client_fields(replace(WHEEL_FILE, **changes))
    assert caught.value.status == 400
    assert caught.value.message.startswith(message)


def test_digest_measures_the_bytes_and_leaves_them_at_the_start() -> None:
    content = io.BytesIO(CONTENT)
    content.seek(5)
    digests = digest(content, "tiny-lib")
    assert digests == Digests(
        size=len(CONTENT),
        md5=hashlib.md5(CONTENT, usedforsecurity=False).hexdigest(),
        sha256=SHA256,
        blake2_256=hashlib.blake2b(CONTENT, digest_size=32).hexdigest(),
    )
    assert content.tell() == 0


def test_a_file_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy, "MAX_FILE_SIZE", 10)
    content = io.BytesIO(CONTENT)
    with pytest.raises(UploadError) as caught:
        digest(content, "tiny-lib")
    assert caught.value.message == "File too large. Limit for project 'tiny-lib' is 0 MB."
    assert content.tell() == 0


def test_claimed_digests_match_in_any_case() -> None:
    actual = digest(io.BytesIO(CONTENT), "tiny-lib")
    check_claimed(ClaimedDigests(sha256=SHA256.upper()), actual)
    check_claimed(ClaimedDigests(md5=actual.md5, blake2_256=actual.blake2_256), actual)


@pytest.mark.parametrize(
    "claimed",
    [
        ClaimedDigests(sha256="0" * 64),
        ClaimedDigests(sha256=SHA256, md5="0" * 32),
        ClaimedDigests(blake2_256="0" * 64),
    ],
)
def test_a_claimed_digest_that_does_not_match_is_refused(claimed: ClaimedDigests) -> None:
    with pytest.raises(UploadError) as caught:
        check_claimed(claimed, digest(io.BytesIO(CONTENT), "tiny-lib"))
    assert caught.value.message == (
        "The digest supplied does not match a digest calculated from the uploaded file."
    )
