"""Download statistics pages and their charts, fed by real downloads over HTTP."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.accounts import log_in
from tests.helpers.dists import Project, sdist, wheel
from tests.helpers.factories import Factory
from wheelyard.data.user import User
from wheelyard.storage.base import FileStorage

PIP = (
    'pip/26.0 {"implementation":{"name":"CPython","version":"3.12.1"},'
    '"installer":{"name":"pip","version":"26.0"},"python":"3.12.1",'
    '"system":{"name":"Linux","release":"6.1.0"}}'
)
UV = (
    'uv/0.9.0 {"installer":{"name":"uv","version":"0.9.0"},"python":"3.13.0",'
    '"implementation":{"name":"CPython","version":"3.13.0"},'
    '"system":{"name":"Darwin","release":"24.1.0"}}'
)
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def downloaded(client: TestClient, app: Starlette, make: Factory, db: Session) -> str:
    """ "chart-demo": three downloads of its wheel by pip, one of its sdist by uv."""
    storage: FileStorage = app.state.storage
    package = make.package("Chart_Demo", versions=())
    release = make.release(package, "1.0", with_file=False)
    project = Project(name="chart-demo", version="1.0")
    wheel_file = make.stored_file(release, wheel(project), storage)
    sdist_file = make.stored_file(release, sdist(project), storage)
    db.commit()
    for release_file, agent in ((wheel_file, PIP),) * 3 + ((sdist_file, UV),):
        response = client.get(
            f"/packages/{release_file.storage_path}", headers={"User-Agent": agent}
        )
        assert response.status_code == 200
    assert app.state.downloads.flush() == 4
    return package.id


def table(html: str, chart: str) -> dict[str, int]:
    """The rows of the table that carries the numbers of ``chart``."""
    found = re.search(rf'<table class="data" data-chart="{chart}">(.*?)</table>', html, re.S)
    assert found, f"no table for {chart}"
    cells = re.findall(r"<td>([^<]*)</td><td class=\"num\">([\d,]+)</td>", found.group(1))
    return {name: int(count.replace(",", "")) for name, count in cells}


def chart_values(svg: bytes) -> list[int]:
    root = ET.fromstring(svg)  # noqa: S314 - our own chart, parsed to check it
    return [
        int(float((desc.text or "0").replace(",", "")))
        for desc in root.iter(f"{SVG_NAMESPACE}desc")
        if desc.get("class") == "value"
    ]


def test_project_page_shows_recent_downloads(client: TestClient, downloaded: str) -> None:
    html = client.get(f"/project/{downloaded}/").text
    assert re.search(r"<span>Today</span> <strong>4</strong>", html)
    assert f'src="/project/{downloaded}/stats/sparkline.svg"' in html
    assert f'href="/project/{downloaded}/stats/"' in html


def test_stats_page_tables_hold_the_breakdowns(client: TestClient, downloaded: str) -> None:
    response = client.get(f"/project/{downloaded}/stats/")
    assert response.status_code == 200
    html = response.text
    assert table(html, "version") == {"1.0": 4}
    assert table(html, "installer") == {"pip": 3, "uv": 1}
    assert table(html, "python") == {"3.12": 3, "3.13": 1}
    assert table(html, "system") == {"Linux": 3, "Darwin": 1}
    assert sum(table(html, "daily").values()) == 4


@pytest.mark.parametrize("chart", ["version", "installer", "python", "system"])
def test_each_chart_draws_the_numbers_of_its_table(
    client: TestClient, downloaded: str, chart: str
) -> None:
    html = client.get(f"/project/{downloaded}/stats/").text
    response = client.get(f"/project/{downloaded}/stats/{chart}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    # Its own policy only: no script, inline styles allowed inside the image.
    policy = response.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    assert b"<script" not in response.content
    assert sorted(chart_values(response.content)) == sorted(table(html, chart).values())


def test_daily_chart_and_sparkline(client: TestClient, downloaded: str) -> None:
    daily = client.get(f"/project/{downloaded}/stats/daily.svg")
    # Downloaded today only: the chart starts at the first day with downloads.
    assert chart_values(daily.content) == [4]
    narrow = client.get(f"/project/{downloaded}/stats/daily.svg?size=narrow")
    assert ET.fromstring(narrow.content).get("viewBox") == "0 0 400 260"  # noqa: S314
    assert chart_values(narrow.content) == [4]
    wrong = client.get(f"/project/{downloaded}/stats/daily.svg?size=huge")
    assert wrong.status_code == 400
    assert "size is narrow or left out" in wrong.text
    html = client.get(f"/project/{downloaded}/stats/").text
    assert f'srcset="/project/{downloaded}/stats/daily.svg?size=narrow"' in html
    sparkline = client.get(f"/project/{downloaded}/stats/sparkline.svg")
    assert sparkline.status_code == 200
    assert ET.fromstring(sparkline.content).tag == f"{SVG_NAMESPACE}svg"  # noqa: S314


def test_a_project_without_downloads_says_so(
    client: TestClient, make: Factory, db: Session
) -> None:
    make.package("quiet", versions=("1.0",))
    db.commit()
    html = client.get("/project/quiet/stats/").text
    assert "No downloads in the last 180 days." in html
    # An empty state, not an empty chart.
    assert "daily.svg" not in html
    chart = client.get("/project/quiet/stats/daily.svg")
    assert chart.status_code == 200
    assert b"No downloads yet" in chart.content


def test_other_spellings_move_to_the_normalized_stats_url(
    client: TestClient, downloaded: str
) -> None:
    response = client.get("/project/Chart.Demo/stats/", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"/project/{downloaded}/stats/"


@pytest.mark.parametrize(
    "path",
    [
        "/project/nothing-here/stats/",
        "/project/nothing-here/stats/daily.svg",
        "/project/chart-demo/stats/favourite.svg",
        "/project/..%2F..%2Fetc/stats/",
        "/project/" + "x" * 300 + "/stats/",
    ],
)
def test_unknown_projects_and_charts_are_404(
    client: TestClient, downloaded: str, path: str
) -> None:
    assert client.get(path).status_code == 404


def test_index_stats_page(client: TestClient, downloaded: str) -> None:
    response = client.get("/stats/")
    assert response.status_code == 200
    html = response.text
    assert re.search(r'class="stat-day">4<', html)
    top = re.search(r'<table class="data" id="top-downloads">(.*?)</table>', html, re.S)
    assert top and f'href="/project/{downloaded}/stats/"' in top.group(1)
    by_size = re.search(r'id="top-size">(.*?)</table>', html, re.S)
    assert by_size and "Chart_Demo" in by_size.group(1)
    daily = client.get("/stats/daily.svg")
    assert chart_values(daily.content)[-1] == 4
    assert 'srcset="/stats/daily.svg?size=narrow"' in html
    assert "in the files listed" in html


def test_an_index_without_downloads_shows_an_empty_state(client: TestClient) -> None:
    html = client.get("/stats/").text
    assert "No downloads in the last 180 days." in html
    assert "/stats/daily.svg" not in html
    assert client.get("/stats/daily.svg?size=big").status_code == 400


def test_pages_keep_the_site_policy(client: TestClient, downloaded: str) -> None:
    response = client.get(f"/project/{downloaded}/stats/")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_pages_are_shared_only_while_nobody_is_signed_in(
    client: TestClient, downloaded: str, ada: User
) -> None:
    for path in ("/stats/", f"/project/{downloaded}/stats/"):
        anonymous = client.get(path)
        assert anonymous.headers["cache-control"] == "public, max-age=60", path
        assert anonymous.headers["vary"] == "Cookie"
    log_in(client, ada.email)
    for path in ("/stats/", f"/project/{downloaded}/stats/"):
        signed_in = client.get(path)
        assert "Ada" in signed_in.text
        assert signed_in.headers["cache-control"] == "private, no-store", path
