"""The project page in Chromium: tabs that switch with and without scripts, the phone layout
(install line and tabs above the README), the file filter and copying a hash."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.factories import Factory
from tests.helpers.live_server import LiveServer
from tests.helpers.passwords import cheap_passwords
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.web.views.projects import HISTORY_PAGE_SIZE

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
README = "# Tabbed\n\n" + "A paragraph of the README.\n\n" * 30 + "```python\nimport tabbed\n```\n"
WHEELS = (
    "tabbed-1.59-cp312-cp312-win_amd64.whl",
    "tabbed-1.59-cp312-cp312-manylinux_2_17_x86_64.whl",
    "tabbed-1.59-cp312-cp312-macosx_11_0_arm64.whl",
)


@pytest.fixture(scope="module")
def index(live_server: LiveServer) -> LiveServer:
    """A project with a long README, more releases than a history page holds, and a sdist
    and three wheels in its latest release."""
    engine = create_engine(live_server.database_url)
    try:
        with transaction(session_factory(engine)) as db:
            make = Factory(db, cheap_passwords())
            package = make.package(
                "tabbed", versions=(), description=README, description_content_type="text/markdown"
            )
            start = dt.datetime(2020, 1, 1)
            for n in range(HISTORY_PAGE_SIZE + 20):
                release = make.release(
                    package, f"1.{n}", created=start + dt.timedelta(days=n), with_file=False
                )
            make.file(release, packagetype="sdist")
            for filename in WHEELS:
                make.file(release).filename = filename
    finally:
        engine.dispose()
    return live_server


def visible_panels(page: Page) -> list[str]:
    return [
        name
        for name in ("description", "history", "files")
        if page.locator(f"#{name}").is_visible()
    ]


@pytest.mark.parametrize("scripts", [True, False], ids=["with-scripts", "without-scripts"])
def test_the_tabs_show_one_view_at_a_time(
    chromium: Browser, index: LiveServer, scripts: bool
) -> None:
    context = chromium.new_context(viewport=WIDE, java_script_enabled=scripts)
    page = context.new_page()
    try:
        page.goto(index.url + "/project/tabbed/")
        assert visible_panels(page) == ["description"]
        expect(page.locator(".readme")).to_contain_text("A paragraph of the README.")

        page.click(".tabs >> text=Release history")
        assert page.url.endswith("#history")
        assert visible_panels(page) == ["history"]
        # One page of the history, not all sixty releases.
        assert page.locator("#history .history li").count() == HISTORY_PAGE_SIZE

        page.click(".tabs >> text=Download files")
        assert visible_panels(page) == ["files"]

        page.go_back()
        assert visible_panels(page) == ["history"]
        page.click(".tabs >> text=Project description")
        assert visible_panels(page) == ["description"]

        # The next history page opens on its tab.
        page.goto(index.url + "/project/tabbed/?history=2#history")
        assert visible_panels(page) == ["history"]
        assert page.locator("#history .history li").count() == 20
    finally:
        context.close()


def test_on_a_phone_the_install_line_and_tabs_come_before_the_readme(
    chromium: Browser, index: LiveServer
) -> None:
    page = chromium.new_page(viewport=PHONE)
    try:
        page.goto(index.url + "/project/tabbed/")
        readme = page.locator(".readme").bounding_box()
        install = page.locator("#pip-command").bounding_box()
        tabs = page.locator(".tabs").bounding_box()
        sidebar = page.locator(".sidebar").bounding_box()
        assert readme is not None and install is not None and tabs is not None
        assert sidebar is not None
        assert install["y"] + install["height"] <= readme["y"]
        assert tabs["y"] + tabs["height"] <= readme["y"]
        # On screen without scrolling, and all three tabs within the width.
        assert tabs["y"] + tabs["height"] <= PHONE["height"]
        for name in ("description", "history", "files"):
            box = page.locator(f".tab-{name}").bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"]
        assert sidebar["y"] > readme["y"]
        # No sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        page.close()


def test_the_filter_narrows_the_file_list(chromium: Browser, index: LiveServer) -> None:
    page = chromium.new_page(viewport=WIDE)
    try:
        page.goto(index.url + "/project/tabbed/#files")
        files = page.locator("#files .file")
        expect(files).to_have_count(4)
        box = page.locator("#file-filter")
        expect(box).to_be_visible()

        box.fill("windows")
        expect(page.locator("#files .file:visible")).to_have_count(1)
        expect(page.locator("#files .file:visible")).to_contain_text("win_amd64")
        expect(page.locator(".file-filter-count")).to_have_text("1 of 4 files")
        # The sdist's group has nothing left: its heading goes too.
        expect(page.locator("text=Source distribution")).to_be_hidden()

        box.fill("cpython 3.12 arm64")
        expect(page.locator("#files .file:visible")).to_contain_text("macosx_11_0_arm64")
        box.fill("")
        expect(page.locator("#files .file:visible")).to_have_count(4)
        expect(page.locator("text=Source distribution")).to_be_visible()
    finally:
        page.close()


def test_a_hash_is_copied_with_its_button(chromium: Browser, index: LiveServer) -> None:
    context = chromium.new_context(viewport=WIDE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=index.url)
    page = context.new_page()
    try:
        page.goto(index.url + "/project/tabbed/#files")
        first = page.locator("#files .file").first
        first.locator("summary").click()
        digest = first.locator("table.hashes code").first.inner_text()
        button = first.locator("table.hashes button").first
        button.click()
        expect(button).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == digest
    finally:
        context.close()
