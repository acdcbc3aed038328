from __future__ import annotations

import pytest

from wheelyard.http.conditional import etag_matches, not_modified


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
    ],
)
def test_etag_matches(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


def test_a_held_etag_is_a_bodiless_304_with_the_full_answers_headers() -> None:
    headers = {"ETag": '"abc"', "Cache-Control": "max-age=0", "Vary": "Accept"}
    response = not_modified('W/"abc"', headers)
    assert response is not None
    assert response.status_code == 304
    assert response.body == b""
    assert {name: response.headers[name] for name in headers} == headers
    assert "content-length" not in response.headers


@pytest.mark.parametrize("header", [None, "", '"other"'])
def test_any_other_request_goes_on_to_the_body(header: str | None) -> None:
    assert not_modified(header, {"ETag": '"abc"'}) is None
