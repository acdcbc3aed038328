"""services.urls: page paths with ids encoded as one path segment each."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from wheelyard.services import urls


@pytest.mark.parametrize(
    ("version", "path"),
    [
        (None, "/project/flask/"),
        ("3.0.0", "/project/flask/3.0.0/"),
        ("1.0+local.7", "/project/flask/1.0+local.7/"),
        ("1!2.0", "/project/flask/1!2.0/"),
        ("1.0/beta", "/project/flask/1.0%2Fbeta/"),
        ("1.0 beta?#", "/project/flask/1.0%20beta%3F%23/"),
    ],
)
def test_project_url(version: str | None, path: str) -> None:
    assert urls.project_url("flask", version) == path


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("MIT", "/licenses/MIT/"),
        ("GPL-2.0+", "/licenses/GPL-2.0+/"),
        ("BSD/X11 (old)", "/licenses/BSD%2FX11%20%28old%29/"),
        ("Überlizenz", "/licenses/%C3%9Cberlizenz/"),
    ],
)
def test_license_url(name: str, path: str) -> None:
    assert urls.license_url(name) == path
    assert unquote(path) == f"/licenses/{name}/"


def test_language_url() -> None:
    assert urls.language_url("Python 3.11") == "/languages/Python%203.11/"
    assert urls.language_url("C++") == "/languages/C++/"


def test_search_url_encodes_the_query_for_a_query_string() -> None:
    assert urls.search_url("c++ & more") == "/search?q=c%2B%2B%20%26%20more"
    assert urls.search_url("x", page=3) == "/search?q=x&page=3"
