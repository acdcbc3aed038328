"""Upstream pages read into files, from PEP 691 JSON and PEP 503 HTML alike."""

from __future__ import annotations

import json

import pytest

from wheelyard.services.upstream.documents import (
    UpstreamListing,
    UpstreamPageError,
    parse_html,
    parse_json,
    parse_page,
)

SHA = "a" * 64
META = "b" * 64
PAGE = "https://up.example/simple/demo/"


def test_json_files_keep_everything_and_resolve_relative_urls() -> None:
    body = json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "name": "demo",
            "versions": ["1.0", "2.0"],
            "files": [
                {
                    "filename": "demo-1.0-py3-none-any.whl",
                    "url": "../../packages/demo-1.0-py3-none-any.whl",
                    "hashes": {"sha256": SHA},
                    "requires-python": ">=3.9",
                    "size": 123,
                    "upload-time": "2024-01-02T03:04:05.000000Z",
                    "yanked": "broken",
                    "core-metadata": {"sha256": META},
                },
                {"filename": "demo-2.0.tar.gz", "url": "x", "hashes": {"md5": "00"}},
            ],
        }
    ).encode()
    listing = parse_json(body, PAGE)
    assert listing.versions == ("1.0", "2.0")
    [file] = listing.files  # the file with no sha256 cannot be checked: left out
    assert file.url == "https://up.example/packages/demo-1.0-py3-none-any.whl"
    assert (file.sha256, file.size, file.requires_python) == (SHA, 123, ">=3.9")
    assert file.upload_time == "2024-01-02T03:04:05.000000Z"
    assert (file.yanked, file.yanked_reason, file.metadata_sha256) == (True, "broken", META)
    assert UpstreamListing.from_json(listing.to_json()) == listing


def test_html_anchors_with_data_attributes() -> None:
    body = f"""<!DOCTYPE html><html><body>
    <a href="/files/demo-1.0.tar.gz#sha256={SHA}"
       data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>
    <a href="demo-2.0-py3-none-any.whl#sha256={SHA.upper()}" data-yanked=""
       data-dist-info-metadata="sha256={META}">demo-2.0-py3-none-any.whl</a>
    <a href="demo-3.0.tar.gz">demo-3.0.tar.gz</a>
    </body></html>""".encode()
    listing = parse_html(body, PAGE)
    first, second = listing.files
    assert first.url == "https://up.example/files/demo-1.0.tar.gz"
    assert first.requires_python == ">=3.8"
    assert (first.size, first.upload_time, first.yanked) == (None, None, False)
    assert second.url == PAGE + "demo-2.0-py3-none-any.whl"
    assert second.sha256 == SHA
    assert (second.yanked, second.yanked_reason, second.metadata_sha256) == (True, None, META)
    # Versions come from the filenames when the page does not list them.
    assert listing.versions == ("1.0", "2.0")


def test_the_content_type_picks_the_parser() -> None:
    body = json.dumps({"files": []}).encode()
    assert parse_page(body, "application/vnd.pypi.simple.v1+json", PAGE).files == ()
    with pytest.raises(UpstreamPageError):
        parse_page(b"<html>", "application/vnd.pypi.simple.v1+json", PAGE)
    assert parse_page(b"<html></html>", "text/html; charset=utf-8", PAGE).files == ()
