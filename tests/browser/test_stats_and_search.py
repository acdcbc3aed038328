"""A person in a real browser: a project's download charts, and finding flask by searching."""

from __future__ import annotations

import json
import time
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.dists import Project, wheel
from tests.helpers.factories import Factory
from tests.helpers.live_server import LiveServer
from tests.helpers.passwords import cheap_passwords
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.storage.local import LocalStorage

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
SVG = "{http://www.w3.org/2000/svg}"
# Projects whose names or summaries also say "flask": flask itself must still come first.
PROJECTS = {
    "flask-login": "User session management for Flask",
    "Flask-SQLAlchemy": "Adds SQLAlchemy support to your Flask application",
    "quart": "A Python ASGI web framework with the same API as Flask",
    "flask": "A simple framework for building complex web applications",
}

pytestmark = pytest.mark.browser


def _get(url: str, agent: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    with urllib.request.urlopen(request, timeout=10) as response:
        body: bytes = response.read()
        return body


@pytest.fixture(scope="module")
def index(live_server: LiveServer) -> LiveServer:
    """The projects above; flask's wheel downloaded three times by pip and once by uv."""
    engine = create_engine(live_server.database_url)
    try:
        with transaction(session_factory(engine)) as db:
            make = Factory(db, cheap_passwords())
            storage = LocalStorage(live_server.var_dir / "files")
            for name, summary in PROJECTS.items():
                package = make.package(name, versions=())
                package.summary = summary
                release = make.release(package, "1.0", with_file=False)
                stored = make.stored_file(release, wheel(Project(name, "1.0")), storage)
    finally:
        engine.dispose()
    url = f"{live_server.url}/packages/{stored.storage_path}"
    for agent in (PIP, PIP, PIP, UV):
        _get(url, agent)
    # The recorder writes at least once a second; the stats API shows when it has.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        recent = json.loads(_get(f"{live_server.url}/api/packages/flask/recent", "test"))
        if recent["data"]["last_day"] == 4:
            break
        time.sleep(0.2)
    return live_server


def table_numbers(page: Page, chart: str) -> dict[str, int]:
    rows = page.locator(f'table[data-chart="{chart}"] tbody tr')
    return {
        rows.nth(n).locator("td").nth(0).inner_text(): int(
            rows.nth(n).locator("td").nth(1).inner_text().replace(",", "")
        )
        for n in range(rows.count())
    }


def test_the_stats_page_draws_its_charts(chromium: Browser, index: LiveServer) -> None:
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    page.goto(index.url + "/project/flask/")
    expect(page.locator(".downloads-recent")).to_contain_text("4")
    page.click("text=Download statistics")
    page.wait_for_url(index.url + "/project/flask/stats/")
    expect(page.locator(".stat-day")).to_have_text("4")

    assert table_numbers(page, "installer") == {"pip": 3, "uv": 1}
    for chart in ("daily", "version", "python", "installer", "system"):
        image = page.locator(f'img.chart[src$="/{chart}.svg"]')
        image.scroll_into_view_if_needed()
        # Drawn: the browser decoded an image with a real size.
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
    # And it draws the numbers of the table beneath it.
    svg = page.request.get(index.url + "/project/flask/stats/installer.svg").body()
    drawn = [
        int(desc.text or "0")
        for desc in ET.fromstring(svg).iter(f"{SVG}desc")  # noqa: S314 - our own chart
        if desc.get("class") == "value"
    ]
    assert sorted(drawn) == sorted(table_numbers(page, "installer").values())
    page.close()


def test_the_search_box_finds_flask_first(chromium: Browser, index: LiveServer) -> None:
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    page.goto(index.url + "/")
    page.fill(".hero-search input[name=q]", "flask")
    page.press(".hero-search input[name=q]", "Enter")
    page.wait_for_url(index.url + "/search?q=flask")
    first = page.locator(".package-list li").first
    expect(first).to_contain_text("flask")
    expect(first.locator("a").first).to_have_attribute("href", "/project/flask/")
    page.close()
