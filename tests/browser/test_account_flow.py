"""A person in a real browser: register, log in, open a project page, log out; two-factor."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.helpers.live_server import LiveServer
from wheelyard.data.db_session import create_engine, session_factory, transaction
from wheelyard.data.package import Package
from wheelyard.data.release import Release

pytestmark = pytest.mark.browser


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


def test_set_up_two_factor_login_and_log_in_with_a_recovery_code(
    chromium_path: Path, browser_server: LiveServer
) -> None:
    base = browser_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            console_errors: list[str] = []
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )

            page.goto(base + "/account/register")
            page.fill("#name", "Careful Person")
            page.fill("#email", "careful@example.com")
            page.fill("#password", "a long enough password")
            page.fill("#confirm", "a long enough password")
            page.click("form.stacked button[type=submit]")
            page.wait_for_url(base + "/account")

            page.click("text=Set up two-factor login")
            page.wait_for_url(base + "/account/two-factor")
            # The QR code is an SVG data URI: it must load under the site's CSP.
            qr = page.locator("img.qr-code")
            expect(qr).to_be_visible()
            assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
            secret = page.locator(".totp-secret").inner_text().replace(" ", "")
            page.fill("#code", pyotp.TOTP(secret).now())
            page.click("text=Turn on two-factor login")
            expect(page.locator("h1")).to_have_text("Two-factor login is on")
            codes = page.locator(".recovery-code-list code").all_inner_texts()
            assert len(codes) == 10

            page.goto(base + "/account")
            page.click("text=Log out")
            page.wait_for_url(base + "/")

            page.goto(base + "/account/login")
            page.fill("#email", "careful@example.com")
            page.fill("#password", "a long enough password")
            page.click("form.stacked button[type=submit]")
            page.wait_for_url(base + "/account/login/two-factor")
            expect(page.locator(".site-nav")).to_contain_text("Log in")
            page.fill("#code", codes[0])
            page.click("form.stacked button[type=submit]")
            page.wait_for_url(base + "/account/two-factor")
            expect(page.locator(".notice")).to_contain_text("9 are left")
            expect(page.locator(".site-nav")).to_contain_text("Careful Person")
            assert not [text for text in console_errors if "Content Security Policy" in text]
        finally:
            browser.close()
