"""A person in a real browser: register, log in, open a project page, log out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import LiveServer
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.package import Package
from wheelyard.data.release import Release

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM}"
        if os.environ.get("WHEELYARD_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and WHEELYARD_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser_server(live_server: LiveServer) -> LiveServer:
    """The live server, with one project for the browser to open."""
    engine = create_engine(live_server.database_url)
    try:
        with transaction(session_factory(engine)) as db:
            package = Package(id="browser-demo", name="browser-demo", summary="Seen in Chromium")
            db.add(package)
            db.add(Release(package=package, version="1.0"))
    finally:
        engine.dispose()
    return live_server


def test_register_log_in_open_a_project_and_log_out(
    chromium_path: Path, browser_server: LiveServer
) -> None:
    base = browser_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)

            page.goto(base + "/account/register")
            page.fill("#name", "Browser Person")
            page.fill("#email", "browser@example.com")
            page.fill("#password", "a long enough password")
            page.fill("#confirm", "a long enough password")
            page.click("form.stacked button[type=submit]")
            page.wait_for_url(base + "/account")
            expect(page.locator("h1")).to_have_text("Browser Person")

            page.click("text=Log out")
            page.wait_for_url(base + "/")
            expect(page.locator(".site-nav")).to_contain_text("Log in")

            page.goto(base + "/account")  # signed out: sent to log in, and back afterwards
            page.fill("#email", "BROWSER@example.com")
            page.fill("#password", "a long enough password")
            page.click("form.stacked button[type=submit]")
            page.wait_for_url(base + "/account")
            expect(page.locator(".last-login")).not_to_have_text("never")

            page.goto(base + "/project/browser-demo/")
            expect(page.locator("h1")).to_contain_text("browser-demo")
            expect(page.locator(".site-nav")).to_contain_text("Browser Person")

            page.click("text=Log out")
            page.wait_for_url(base + "/")
            expect(page.locator(".site-nav")).to_contain_text("Register")
            expect(page.locator(".site-nav")).not_to_contain_text("Browser Person")
        finally:
            browser.close()
