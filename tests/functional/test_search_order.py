"""/search?o=: PyPI's sort orders (relevance, -created, -downloads), kept by every link."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from starlette.testclient import TestClient

from tests.helpers.factories import Factory
from wheelyard.data.download_count import DownloadCount
from wheelyard.services import clock
from wheelyard.services.projects import classifiers


def result_names(body: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'<span class="name">([^<]+)</span>', body)]


@pytest.fixture
def projects(make: Factory) -> None:
    today = clock.today()
    rows = [
        ("web", dt.datetime(2023, 1, 1), 50),
        ("new-web", dt.datetime(2026, 11, 1), 5),
        ("old-web", dt.datetime(2020, 1, 1), 500),
    ]
    for name, updated, downloads in rows:
        package = make.package(name, summary="web tools")
        package.last_updated = updated
        make.db.add(
            DownloadCount(package_id=package.id, day=today, is_mirror=False, downloads=downloads)
        )
        classifiers.set_classifiers(make.db, package, ["Framework :: Django"])
    make.db.flush()


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("", ["web", "new-web", "old-web"]),
        ("-created", ["new-web", "web", "old-web"]),
        ("-downloads", ["old-web", "web", "new-web"]),
    ],
)
def test_each_order(client: TestClient, projects: None, order: str, expected: list[str]) -> None:
    response = client.get("/search", params={"q": "web", "o": order})

    assert response.status_code == 200
    assert result_names(response.text) == expected
    assert f'<option value="{order}" selected>' in response.text


def test_the_order_goes_with_the_classifier_filter_and_the_links(
    client: TestClient, projects: None, make: Factory
) -> None:
    make.package("web-unclassified", summary="web tools")
    make.db.flush()
    body = client.get(
        "/search", params={"q": "web", "c": "Framework :: Django", "o": "-downloads"}
    ).text

    assert result_names(body) == ["old-web", "web", "new-web"]
    # Dropping the filter keeps the order.
    assert (
        'href="/search?q=web&amp;o=-downloads" aria-label="Remove the filter Framework :: Django"'
        in body
    )


def test_an_unknown_order_is_a_400_with_the_reason(client: TestClient, projects: None) -> None:
    response = client.get("/search", params={"q": "web", "o": "-zscore"})

    assert response.status_code == 400
    assert "Unknown sort order" in unescape(response.text)
    assert "&#39;-created&#39;" in response.text or "'-created'" in unescape(response.text)
