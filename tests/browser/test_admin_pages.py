"""A site admin in Chromium: read-only mode on and off, a user deactivated, a project
quarantined, a name prohibited; and a stranger finds no admin pages at all."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.helpers.factories import Factory
from tests.helpers.live_server import LiveServer
from tests.helpers.passwords import PASSWORD, cheap_passwords
from wheelyard.data.db_session import create_engine, session_factory, transaction

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM}"
        if os.environ.get("WHEELYARD_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and WHEELYARD_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> LiveServer:
    engine = create_engine(live_server.database_url)
    try:
        with transaction(session_factory(engine)) as db:
            make = Factory(db, cheap_passwords())
            make.user(name="Root Admin", email="root@example.com", is_admin=True)
            owner = make.user(name="Petra Plain", email="petra@example.com")
            make.package("shady-pkg", versions=("1.0",), owner=owner)
    finally:
        engine.dispose()
    return live_server


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/account/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(base + "/account")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_an_admin_runs_the_site_from_the_admin_pages(chromium: Browser, site: LiveServer) -> None:
    base = site.url
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    try:
        _log_in(page, base, "root@example.com")
        page.click("a.admin-link")
        page.wait_for_url(base + "/admin/")
        expect(page.locator("h1")).to_have_text("Site administration")

        # Read-only mode: on with a reason, seen on every page, then off again.
        page.fill("#read-only-reason", "Disk swap in progress.")
        page.click("#read-only button[type=submit]")
        expect(page.locator("#read-only .flag-state")).to_contain_text("On")
        expect(page.locator(".read-only-notice")).to_contain_text("Disk swap in progress.")
        page.goto(base + "/project/shady-pkg/")
        expect(page.locator(".read-only-notice")).to_be_visible()
        page.goto(base + "/admin/")
        page.click("#read-only button[type=submit]")
        expect(page.locator("#read-only .flag-state")).to_contain_text("Off")
        expect(page.locator(".read-only-notice")).to_have_count(0)

        # Users: search, then deactivate Petra.
        page.click("nav.admin-nav >> text=Users")
        page.fill("#user-query", "petra")
        page.click("form[role=search] button")
        row = page.locator("tr[data-email='petra@example.com']")
        expect(row).to_contain_text("active")
        row.locator("text=Deactivate").click()
        expect(page.locator(".notice[role=status]").last).to_contain_text(
            "petra@example.com is now deactivated"
        )
        expect(page.locator("tr[data-email='petra@example.com']")).to_contain_text("deactivated")

        # Projects: quarantine shady-pkg; its simple page then lists no file.
        page.click("nav.admin-nav >> text=Projects")
        page.fill("#quarantine-shady-pkg", "Ships a credential stealer.")
        page.locator("tr[data-project='shady-pkg'] >> text=Quarantine").click()
        expect(page.locator("tr[data-project='shady-pkg']")).to_contain_text("quarantined")
        page.goto(base + "/project/shady-pkg/")
        expect(page.locator(".status-banner")).to_contain_text("quarantined")
        expect(page.locator(".status-banner")).to_contain_text("credential stealer")

        # Prohibited names.
        page.goto(base + "/admin/names/")
        page.fill("#name", "internal-secrets")
        page.fill("#reason", "An internal name.")
        page.click("form[action='/admin/names/prohibit'] button")
        expect(page.locator("tr[data-name='internal-secrets']")).to_contain_text(
            "An internal name."
        )
    finally:
        page.close()


def test_nobody_else_finds_the_admin_pages(chromium: Browser, site: LiveServer) -> None:
    assert _status(site.url + "/admin/") == 404
    page = chromium.new_page()
    page.set_default_timeout(15_000)
    try:
        response = page.goto(site.url + "/admin/users/")
        assert response is not None and response.status == 404
    finally:
        page.close()
