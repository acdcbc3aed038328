"""robots.txt and the sitemap over HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.factories import Factory
from wheelyard.config import Settings
from wheelyard.services.discovery import sitemap

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def locations(xml: str, tag: str = "url") -> list[str]:
    root = ET.fromstring(xml)  # noqa: S314 - our own output, parsed in a test
    return [loc.text or "" for loc in root.findall(f"sm:{tag}/sm:loc", NS)]


def test_robots_allows_crawling_and_points_at_the_sitemap(client: TestClient) -> None:
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines
    assert "Allow: /" in lines
    assert "Disallow: /account" in lines
    assert "Disallow: /manage" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    # It names the host the client asked for: no shared cache may keep it.
    assert response.headers["cache-control"] == "private, max-age=3600"


@pytest.fixture
def public_url_client(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = app_for(replace(settings, public_url="https://pypi.example.org"), sessions)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def test_with_a_public_url_robots_and_sitemaps_name_it_whatever_the_host(
    public_url_client: TestClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    make.package("alpha")
    robots = public_url_client.get("/robots.txt")
    assert "Sitemap: https://pypi.example.org/sitemap.xml" in robots.text.splitlines()
    assert robots.headers["cache-control"] == "public, max-age=3600"
    single = public_url_client.get("/sitemap.xml")
    assert locations(single.text) == [
        "https://pypi.example.org/",
        "https://pypi.example.org/project/alpha/",
    ]
    assert single.headers["cache-control"] == "public, max-age=3600"
    monkeypatch.setattr(sitemap, "MAX_URLS_PER_SITEMAP", 1)
    index = public_url_client.get("/sitemap.xml")
    assert locations(index.text, "sitemap") == [
        "https://pypi.example.org/sitemap-1.xml",
        "https://pypi.example.org/sitemap-2.xml",
    ]
    part = public_url_client.get("/sitemap-2.xml")
    assert locations(part.text) == ["https://pypi.example.org/project/alpha/"]
    assert part.headers["cache-control"] == "public, max-age=3600"


def test_sitemaps_built_from_the_host_are_kept_by_no_shared_cache(
    client: TestClient, make: Factory
) -> None:
    make.package("alpha")
    for path in ("/sitemap.xml", "/sitemap-1.xml"):
        assert client.get(path).headers["cache-control"] == "private, max-age=3600"


def test_sitemap_lists_home_and_every_project(client: TestClient, make: Factory) -> None:
    make.package("Zeta_Pkg")
    make.package("alpha")

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert locations(response.text) == [
        "http://testserver/",
        "http://testserver/project/alpha/",
        "http://testserver/project/zeta-pkg/",
    ]
    assert "<lastmod>" in response.text


def test_sitemap_of_an_empty_index_has_the_home_page(client: TestClient) -> None:
    assert locations(client.get("/sitemap.xml").text) == ["http://testserver/"]


def test_every_sitemap_url_is_a_page(client: TestClient, make: Factory) -> None:
    make.package("one")
    make.package("Two.Parts")

    for url in locations(client.get("/sitemap.xml").text):
        assert client.get(url, follow_redirects=False).status_code == 200, url


def test_a_large_index_gets_a_sitemap_index(
    client: TestClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The protocol's limit is 50,000 URLs per file; three here make the split visible.
    monkeypatch.setattr(sitemap, "MAX_URLS_PER_SITEMAP", 3)
    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):
        make.package(name)

    index = client.get("/sitemap.xml").text

    files = locations(index, tag="sitemap")
    assert files == [
        "http://testserver/sitemap-1.xml",
        "http://testserver/sitemap-2.xml",
        "http://testserver/sitemap-3.xml",
    ]
    parts = [locations(client.get(url).text) for url in files]
    assert parts == [
        ["http://testserver/", "http://testserver/project/a1/", "http://testserver/project/a2/"],
        [
            "http://testserver/project/a3/",
            "http://testserver/project/a4/",
            "http://testserver/project/a5/",
        ],
        ["http://testserver/project/a6/"],
    ]


@pytest.mark.parametrize(
    "path",
    ["/sitemap-0.xml", "/sitemap-2.xml", "/sitemap-abc.xml", "/sitemap-" + "9" * 5000 + ".xml"],
)
def test_unknown_sitemap_files_are_404(client: TestClient, make: Factory, path: str) -> None:
    make.package("only")
    assert client.get(path).status_code == 404


def test_the_single_file_is_also_reachable_by_number(client: TestClient, make: Factory) -> None:
    make.package("only")
    assert locations(client.get("/sitemap-1.xml").text) == locations(
        client.get("/sitemap.xml").text
    )
