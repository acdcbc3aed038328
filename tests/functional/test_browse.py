"""Browsing by license and language over HTTP, including ids that need URL encoding."""

from __future__ import annotations

import re
from html import unescape

import pytest
from starlette.testclient import TestClient

from tests.helpers.factories import Factory
from wheelyard.config import Settings


def listed(body: str, css_class: str = "name") -> list[str]:
    return [
        unescape(text) for text in re.findall(rf'<span class="{css_class}">([^<]+)</span>', body)
    ]


def facet_links(body: str) -> list[str]:
    start = body.index('class="facet-list"')
    items = body[start : body.index("</ul>", start)]
    return [unescape(href) for href in re.findall(r'<a href="([^"]+)">', items)]


@pytest.fixture
def catalogue(make: Factory) -> None:
    mit, gpl, odd = make.license("MIT"), make.license("GPL-2.0+"), make.license("BSD/X11 (old)")
    make.license("Unused-1.0")
    py3, py311, cpp = make.language("Python 3"), make.language("Python 3.11"), make.language("C++")
    make.package("alpha", license=mit, languages=(py3, cpp), summary="First")
    make.package("beta", license=mit, languages=(py3,), summary="Second", versions=("2.0",))
    make.package("gamma", license=mit, languages=(py3, py311))
    make.package("delta", license=gpl, languages=(cpp,))
    make.package("epsilon", license=odd)


def test_licenses_are_listed_with_counts_most_used_first(
    client: TestClient, catalogue: None
) -> None:
    response = client.get("/licenses/")

    assert response.status_code == 200
    body = response.text
    assert listed(body) == ["MIT", "BSD/X11 (old)", "GPL-2.0+", "Unused-1.0"]
    assert listed(body, "facet-count") == ["3 projects", "1 project", "1 project", "0 projects"]
    assert facet_links(body) == [
        "/licenses/MIT/",
        "/licenses/BSD%2FX11%20%28old%29/",
        "/licenses/GPL-2.0+/",
        "/licenses/Unused-1.0/",
    ]


def test_languages_are_listed_with_counts_most_used_first(
    client: TestClient, catalogue: None
) -> None:
    body = client.get("/languages/").text

    assert listed(body) == ["Python 3", "C++", "Python 3.11"]
    assert listed(body, "facet-count") == ["3 projects", "2 projects", "1 project"]
    assert facet_links(body) == [
        "/languages/Python%203/",
        "/languages/C++/",
        "/languages/Python%203.11/",
    ]


def test_every_listed_license_and_language_page_works(client: TestClient, catalogue: None) -> None:
    for index in ("/licenses/", "/languages/"):
        for link in facet_links(client.get(index).text):
            assert client.get(link).status_code == 200, link


def test_a_license_page_lists_its_packages(client: TestClient, catalogue: None) -> None:
    response = client.get("/licenses/MIT/")

    assert response.status_code == 200
    body = response.text
    assert "<h1>MIT</h1>" in body
    assert "3 projects" in body
    assert listed(body) == ["alpha", "beta", "gamma"]
    assert '<span class="version">2.0</span>' in body
    assert '<a href="/project/beta/">' in body
    assert "Second" in body


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/licenses/GPL-2.0+/", ["delta"]),
        ("/licenses/GPL-2.0%2B/", ["delta"]),
        ("/licenses/BSD%2FX11%20%28old%29/", ["epsilon"]),
        ("/languages/C++/", ["alpha", "delta"]),
        ("/languages/C%2B%2B/", ["alpha", "delta"]),
        ("/languages/Python%203.11/", ["gamma"]),
        ("/languages/Python%203/", ["alpha", "beta", "gamma"]),
    ],
)
def test_ids_with_spaces_dots_plus_and_slashes(
    client: TestClient, catalogue: None, path: str, names: list[str]
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert listed(response.text) == names


def test_an_unused_license_has_an_empty_page(client: TestClient, catalogue: None) -> None:
    response = client.get("/licenses/Unused-1.0/")
    assert response.status_code == 200
    assert "No project uses this license yet." in response.text


def test_empty_indexes(client: TestClient) -> None:
    assert "No project declares a license yet." in client.get("/licenses/").text
    assert "No project declares a language yet." in client.get("/languages/").text


def test_without_trailing_slash_redirects(client: TestClient, catalogue: None) -> None:
    assert client.get("/licenses").url.path == "/licenses/"
    response = client.get("/languages/C++")
    assert response.status_code == 200
    assert response.url.path == "/languages/C++/"


def test_license_packages_are_paginated(
    client: TestClient, make: Factory, settings: Settings
) -> None:
    apache = make.license("Apache-2.0")
    for n in range(settings.page_size + 2):
        make.package(f"lib-{n:02d}", license=apache)

    first = client.get("/licenses/Apache-2.0/").text
    second = client.get("/licenses/Apache-2.0/?page=2").text

    assert len(listed(first)) == settings.page_size
    assert 'href="/licenses/Apache-2.0/?page=2" rel="next"' in first
    assert listed(second) == [f"lib-{settings.page_size:02d}", f"lib-{settings.page_size + 1:02d}"]
    assert 'href="/licenses/Apache-2.0/?page=1" rel="prev"' in second


@pytest.mark.parametrize(
    "path",
    [
        "/licenses/No-Such-License/",
        "/licenses/mit/",
        "/licenses/%00/",
        "/licenses/" + "x" * 10_000 + "/",
        "/licenses/..%2F..%2Fetc/",
        "/licenses/MIT/extra/",
        "/languages/Cobol/",
        "/languages/%00/",
        "/languages/" + "y" * 300 + "/",
        "/licenses/MIT/?page=2",
        "/licenses/MIT/?page=999999",
        "/languages/C++/?page=99999999999",
    ],
)
def test_unknown_ids_and_pages_get_a_404_page(
    client: TestClient, catalogue: None, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Not found" in response.text


@pytest.mark.parametrize("page", ["-1", "abc", "0", "1e3", "9" * 5000])
def test_bad_page_numbers_are_a_400(client: TestClient, catalogue: None, page: str) -> None:
    for path in ("/licenses/MIT/", "/languages/C++/"):
        response = client.get(path, params={"page": page})
        assert response.status_code == 400
        assert "Page numbers start at 1." in response.text or "whole number" in response.text


def sort_links(body: str) -> list[str]:
    start = body.index('class="result-count sort-links"')
    return [
        unescape(href)
        for href in re.findall(r'href="([^"]+)"', body[start : body.index("</p>", start)])
    ]


def test_indexes_can_be_sorted_by_name(client: TestClient, catalogue: None) -> None:
    licenses = client.get("/licenses/?sort=name").text
    languages = client.get("/languages/?sort=name").text

    assert listed(licenses) == ["BSD/X11 (old)", "GPL-2.0+", "MIT", "Unused-1.0"]
    assert listed(licenses, "facet-count") == ["1 project", "1 project", "3 projects", "0 projects"]
    assert listed(languages) == ["C++", "Python 3", "Python 3.11"]
    assert listed(languages, "facet-count") == ["2 projects", "3 projects", "1 project"]


@pytest.mark.parametrize("index", ["/licenses/", "/languages/"])
def test_each_order_links_to_the_other(client: TestClient, catalogue: None, index: str) -> None:
    by_count = client.get(index).text
    by_name = client.get(f"{index}?sort=name").text

    assert sort_links(by_count) == [f"{index}?sort=name"]
    assert '<strong aria-current="true">number of projects</strong>' in by_count
    assert sort_links(by_name) == [index]
    assert '<strong aria-current="true">name</strong>' in by_name
    assert listed(client.get(sort_links(by_name)[0]).text) == listed(by_count)
    assert listed(client.get(sort_links(by_count)[0]).text) == listed(by_name)


@pytest.mark.parametrize("sort", ["", "projects", "NAME", "nonsense", "name\x00"])
def test_other_sort_values_keep_the_default_order(
    client: TestClient, catalogue: None, sort: str
) -> None:
    response = client.get("/licenses/", params={"sort": sort})

    assert response.status_code == 200
    assert listed(response.text) == ["MIT", "BSD/X11 (old)", "GPL-2.0+", "Unused-1.0"]


def test_ties_in_count_are_broken_by_name_ignoring_case(client: TestClient, make: Factory) -> None:
    for n, name in enumerate(("zlib", "Boost", "apache")):
        make.package(f"lib-{n}", license=make.license(name))

    assert listed(client.get("/licenses/").text) == ["apache", "Boost", "zlib"]


def test_facet_pages_stay_paginated_whatever_the_index_order(
    client: TestClient, make: Factory, settings: Settings
) -> None:
    rust = make.language("Rust")
    for n in range(settings.page_size + 1):
        make.package(f"crate-{n:02d}", languages=(rust,))

    index = client.get("/languages/?sort=name").text
    first = client.get(facet_links(index)[0]).text

    assert len(listed(first)) == settings.page_size
    assert 'href="/languages/Rust/?page=2" rel="next"' in first
    assert listed(client.get("/languages/Rust/?page=2").text) == [f"crate-{settings.page_size:02d}"]
