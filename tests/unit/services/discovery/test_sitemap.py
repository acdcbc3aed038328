"""services.discovery.sitemap: which URLs each sitemap file holds, and the XML of both kinds."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from sqlalchemy.orm import Session

from tests.helpers.factories import Factory
from wheelyard.services.discovery import sitemap


def path_of(package_id: str) -> str:
    return f"/p/{package_id}/"


def test_one_file_holds_home_then_projects_by_name(db: Session, make: Factory) -> None:
    for name in ("b", "a", "c"):
        make.package(name)

    assert sitemap.file_count(db) == 1
    assert [entry.path for entry in sitemap.entries(db, 1, path_of)] == [
        "/",
        "/p/a/",
        "/p/b/",
        "/p/c/",
    ]


def test_files_split_at_the_limit_counting_home(db: Session, make: Factory) -> None:
    for name in ("a", "b", "c", "d", "e"):
        make.package(name)

    assert sitemap.file_count(db, per_file=2) == 3
    files = [[e.path for e in sitemap.entries(db, n, path_of, per_file=2)] for n in (1, 2, 3)]
    assert files == [["/", "/p/a/"], ["/p/b/", "/p/c/"], ["/p/d/", "/p/e/"]]
    assert sitemap.file_count(db, per_file=6) == 1


def test_lastmod_is_last_updated(db: Session, make: Factory) -> None:
    package = make.package("a")
    package.last_updated = dt.datetime(2024, 3, 9, 12, 0)
    db.flush()

    home, project = sitemap.entries(db, 1, path_of)

    assert home.last_modified is None
    assert project.last_modified == dt.datetime(2024, 3, 9, 12, 0)


def test_urlset_xml_is_escaped_and_valid() -> None:
    xml = sitemap.urlset(
        "https://idx.example.org",
        [sitemap.Entry("/"), sitemap.Entry("/p/a&b/", dt.datetime(2024, 3, 9, 23, 59))],
    )

    root = ET.fromstring(xml)  # noqa: S314 - our own output, parsed in a test
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    assert "<loc>https://idx.example.org/p/a&amp;b/</loc><lastmod>2024-03-09</lastmod>" in xml
    assert len(root) == 2


def test_sitemap_index_xml() -> None:
    xml = sitemap.sitemap_index("http://h", ["/sitemap-1.xml", "/sitemap-2.xml"])
    root = ET.fromstring(xml)  # noqa: S314 - our own output, parsed in a test
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    assert "<sitemap><loc>http://h/sitemap-2.xml</loc></sitemap>" in xml
