"""The RSS feeds over HTTP, and the pages that point feed readers at them."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from tests.helpers.factories import Factory
from wheelyard.config import Settings

RSS = "application/rss+xml; charset=utf-8"
ATOM_LINK = "{http://www.w3.org/2005/Atom}link"
SUMMARY = '<script>&"'
FEEDS = ["/rss/updates.xml", "/rss/packages.xml", "/rss/project/odd-name/releases.xml"]


def channel_of(body: bytes) -> ET.Element:
    channel = ET.fromstring(body).find("channel")  # noqa: S314 - our own output, in a test
    assert channel is not None
    return channel


def local(url: str) -> str:
    """The path (and query) of an absolute URL on the test server."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "testserver"), url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def alternate_feeds(html: str) -> list[str]:
    pattern = r'<link rel="alternate" type="application/rss\+xml"[^>]* href="([^"]+)">'
    return [unescape(href) for href in re.findall(pattern, html)]


@pytest.fixture
def catalogue(make: Factory) -> None:
    base = dt.datetime(2024, 5, 1, 9, 30)
    odd = make.package("Odd_Name", versions=(), summary=SUMMARY)
    for hours, version in enumerate(("1.0", "1.0+cpu", "1!2.0", "2.0rc1")):
        make.release(odd, version, created=base + dt.timedelta(hours=hours))
    make.release(odd, "0.9", created=base - dt.timedelta(days=1), yanked=True)
    plain = make.package("plain", versions=(), summary="Plain")
    make.release(plain, "3.0", created=base + dt.timedelta(days=1))


@pytest.mark.parametrize("path", FEEDS)
def test_every_feed_is_rss_whose_links_answer(
    client: TestClient, catalogue: None, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == RSS
    channel = channel_of(response.content)
    assert client.get(local(channel.findtext("link") or "")).status_code == 200
    self_link = channel.find(ATOM_LINK)
    assert self_link is not None
    assert local(self_link.get("href") or "") == path
    items = channel.findall("item")
    assert items
    for item in items:
        link = item.findtext("link") or ""
        assert item.findtext("guid") == link
        answer = client.get(local(link), follow_redirects=False)
        assert answer.status_code == 200, link
        assert item.findtext("description") in {SUMMARY, "Plain"}


def test_updates_is_newest_first_across_projects(client: TestClient, catalogue: None) -> None:
    channel = channel_of(client.get("/rss/updates.xml").content)

    assert [item.findtext("title") for item in channel.findall("item")] == [
        "plain 3.0",
        "Odd_Name 2.0rc1",
        "Odd_Name 1!2.0",
        "Odd_Name 1.0+cpu",
        "Odd_Name 1.0",
        "Odd_Name 0.9",
    ]
    assert channel.findtext("lastBuildDate") == "Thu, 02 May 2024 09:30:00 GMT"


def test_project_feed_lists_its_releases_newest_first(client: TestClient, catalogue: None) -> None:
    channel = channel_of(client.get("/rss/project/odd-name/releases.xml").content)

    assert [item.findtext("link") for item in channel.findall("item")] == [
        "http://testserver/project/odd-name/2.0rc1/",
        "http://testserver/project/odd-name/1!2.0/",
        "http://testserver/project/odd-name/1.0+cpu/",
        "http://testserver/project/odd-name/1.0/",
        "http://testserver/project/odd-name/0.9/",
    ]


def test_packages_feed_announces_each_project_once(client: TestClient, catalogue: None) -> None:
    channel = channel_of(client.get("/rss/packages.xml").content)

    links = [item.findtext("link") or "" for item in channel.findall("item")]
    assert sorted(links) == [
        "http://testserver/project/odd-name/",
        "http://testserver/project/plain/",
    ]


@pytest.mark.parametrize("spelling", ["Odd_Name", "ODD.NAME", "odd_name", "Odd-Name", "odd--name"])
def test_other_spellings_of_a_name_move_to_the_normalized_feed(
    client: TestClient, catalogue: None, spelling: str
) -> None:
    response = client.get(f"/rss/project/{spelling}/releases.xml", follow_redirects=False)

    assert response.status_code == 301
    assert response.headers["location"] == "/rss/project/odd-name/releases.xml"


@pytest.mark.parametrize(
    "path",
    [
        "/rss/project/no-such-project/releases.xml",
        "/rss/project/..%2F..%2Fetc/releases.xml",
        "/rss/project/%00/releases.xml",
        "/rss/project/" + "x" * 5000 + "/releases.xml",
        "/rss/project/odd-name/",
        "/rss/project/odd-name/releases.atom",
        "/rss/nothing.xml",
    ],
)
def test_unknown_feeds_are_a_404(client: TestClient, catalogue: None, path: str) -> None:
    assert client.get(path).status_code == 404


def test_empty_index_feeds_are_valid(client: TestClient) -> None:
    for path in ("/rss/updates.xml", "/rss/packages.xml"):
        response = client.get(path)
        assert response.status_code == 200
        channel = channel_of(response.content)
        assert channel.findall("item") == []
        assert channel.findtext("lastBuildDate")


@pytest.fixture
def proxied_client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://pkgs.example.com:8443") as client:
        yield client


@pytest.mark.parametrize("allowed_hosts", [("pkgs.example.com",)])
def test_links_are_built_from_the_request_base_url(
    proxied_client: TestClient, catalogue: None
) -> None:
    channel = channel_of(proxied_client.get("/rss/project/plain/releases.xml").content)

    assert channel.findtext("link") == "https://pkgs.example.com:8443/project/plain/"
    assert channel.findtext("item/link") == "https://pkgs.example.com:8443/project/plain/3.0/"


def test_feeds_built_from_the_host_are_kept_by_no_shared_cache(
    client: TestClient, catalogue: None
) -> None:
    for path in FEEDS:
        assert client.get(path).headers["cache-control"] == "private, max-age=300"


@pytest.fixture
def public_url_client(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = app_for(replace(settings, public_url="https://pypi.example.org"), sessions)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def test_with_a_public_url_feeds_link_there_and_may_be_cached_by_anyone(
    public_url_client: TestClient, catalogue: None
) -> None:
    for path in FEEDS:
        response = public_url_client.get(path)
        assert response.headers["cache-control"] == "public, max-age=300"
        assert b"testserver" not in response.content
        channel = channel_of(response.content)
        assert (channel.findtext("link") or "").startswith("https://pypi.example.org/")


def test_pages_point_feed_readers_at_the_feeds(client: TestClient, catalogue: None) -> None:
    home = alternate_feeds(client.get("/").text)
    project = alternate_feeds(client.get("/project/odd-name/").text)

    assert home == ["/rss/updates.xml", "/rss/packages.xml"]
    assert sorted(project) == sorted([*home, "/rss/project/odd-name/releases.xml"])
    for feed in project:
        response = client.get(feed, follow_redirects=False)
        assert response.status_code == 200, feed
        assert response.headers["content-type"] == RSS
