"""services.ops.importers.pypi_documents: reading a PyPI JSON document without trusting it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wheelyard.data.package import Package
from wheelyard.services.ops.importers.pypi_documents import (
    DocumentError,
    ListedFile,
    column_width,
    fit,
    listed_releases,
    parse_document,
    read_file_entry,
    text_of,
)

SHA256 = "ab" * 32


def entry(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "filename": "demo-1.0.tar.gz",
        "packagetype": "sdist",
        "python_version": "source",
        "size": 1000,
        "digests": {"sha256": SHA256},
        "upload_time": "2020-01-01T00:00:00",
        "url": "https://files.example.org/demo-1.0.tar.gz",
    }
    data.update(changes)
    return data


# --- the document -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_parse_document_refuses_what_is_not_a_json_object(text: bytes) -> None:
    with pytest.raises(DocumentError):
        parse_document(text)


def test_parse_document_reads_a_document() -> None:
    assert parse_document(b'{"info": {"name": "demo"}}') == {"info": {"name": "demo"}}


def test_the_releases_map_versions_to_their_entries() -> None:
    document = {"releases": {"1.0": [{"filename": "a"}], "2.0": None, 3: []}}
    assert listed_releases(document, {}) == {"1.0": [{"filename": "a"}], "2.0": []}


def test_a_per_version_document_lists_its_release_under_urls() -> None:
    document = {"urls": [{"filename": "a"}]}
    assert listed_releases(document, {"version": "1.0"}) == {"1.0": [{"filename": "a"}]}
    # When "releases" has the version, its list is the one taken.
    document = {"releases": {"1.0": []}, "urls": [{"filename": "a"}]}
    assert listed_releases(document, {"version": "1.0"}) == {"1.0": []}


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" text ", "text"), ("UNKNOWN", None), ("  ", None), ("", None), (None, None), (3, None)],
)
def test_text_is_stripped_and_placeholders_are_missing(value: object, expected: str | None) -> None:
    assert text_of(value) == expected


def test_text_is_fit_to_its_column() -> None:
    width = column_width(Package, "summary")
    assert fit("s" * (width + 1), Package, "summary") == "s" * width
    assert fit(None, Package, "summary") is None


# --- file entries -----------------------------------------------------------------------------


def test_a_file_entry_is_read_and_cleaned() -> None:
    read = read_file_entry(
        entry(
            filename="demo-1.0-py3-none-any.whl",
            packagetype="bdist_wheel",
            python_version="py3",
            digests={"sha256": SHA256.upper(), "blake2b_256": "cd" * 32},
            md5_digest="ef" * 16,
            upload_time_iso_8601="2020-01-02T03:04:05.678901Z",
            requires_python=">=3.9",
            comment_text="",
            yanked=True,
            yanked_reason="broken",
        )
    )
    assert read == ListedFile(
        filename="demo-1.0-py3-none-any.whl",
        packagetype="bdist_wheel",
        size=1000,
        sha256=SHA256,
        md5="ef" * 16,
        blake2_256="cd" * 32,
        python_version="py3",
        requires_python=">=3.9",
        uploaded=dt.datetime(2020, 1, 2, 3, 4, 5, 678901),
        url="https://files.example.org/demo-1.0.tar.gz",
        comment=None,
        yanked=True,
        yanked_reason="broken",
    )


def test_an_upload_time_with_a_zone_becomes_naive_utc() -> None:
    read = read_file_entry(entry(upload_time="2020-01-01T02:00:00+02:00"))
    assert isinstance(read, ListedFile)
    assert read.uploaded == dt.datetime(2020, 1, 1, 0, 0)
    unreadable = read_file_entry(entry(upload_time="yesterday"))
    assert isinstance(unreadable, ListedFile)
    assert unreadable.uploaded is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"filename": None}, "the entry has no filename"),
        ({"filename": "../demo-1.0.zip"}, "the filename is not a plain file name"),
        ({"filename": "x" * 600}, "the filename is not a plain file name"),
        ({"digests": {"md5": "ef" * 16}}, "the entry has no valid sha256 digest"),
        ({"digests": {"sha256": "zz" * 32}}, "the entry has no valid sha256 digest"),
        ({"size": -1}, "the entry has no valid size"),
        ({"size": True}, "the entry has no valid size"),
        ({"size": "1000"}, "the entry has no valid size"),
        ({"packagetype": ""}, "the entry has no valid packagetype"),
    ],
)
def test_a_file_entry_that_cannot_be_stored_says_why(changes: dict[str, Any], reason: str) -> None:
    assert read_file_entry(entry(**changes)) == reason


def test_a_file_entry_that_is_not_an_object_has_no_filename() -> None:
    assert read_file_entry(["demo-1.0.tar.gz"]) == "the entry has no filename"
