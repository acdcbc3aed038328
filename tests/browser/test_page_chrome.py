"""What every page has around its content, as a person meets it in Chromium: the header on a
phone, the first Tab, and a focus ring that can be seen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser

from tests.helpers.live_server import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Two rows: the brand and the links, then the search.
PHONE_HEADER_MAX_PX = 110


def relative_luminance(css_color: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", css_color)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_the_header_takes_two_rows_on_a_phone(chromium: Browser, live_server: LiveServer) -> None:
    page = chromium.new_page(viewport=PHONE)
    try:
        page.goto(live_server.url + "/")
        box = page.locator(".site-header").bounding_box()
        assert box is not None
        assert box["height"] <= PHONE_HEADER_MAX_PX
    finally:
        page.close()


def test_the_first_tab_reaches_the_skip_link_and_it_leads_to_the_content(
    chromium: Browser, live_server: LiveServer
) -> None:
    page = chromium.new_page()
    try:
        page.goto(live_server.url + "/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        # Off screen until focused, then seen.
        box = page.locator(".skip-link").bounding_box()
        assert box is not None and box["y"] >= 0
        page.keyboard.press("Tab")
        # The next stop is the header, not a search box that took the focus on load.
        assert page.evaluate("document.activeElement.closest('header') !== null")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        assert page.url.endswith("#content")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('main') !== null")
    finally:
        page.close()


def test_the_focus_ring_stands_out_from_white_and_from_the_header(
    chromium: Browser, live_server: LiveServer
) -> None:
    page = chromium.new_page()
    try:
        page.goto(live_server.url + "/")
        footer_link = page.locator(".site-footer a").first
        footer_link.focus()
        ring = footer_link.evaluate("e => getComputedStyle(e).outlineColor")
        assert contrast(ring, "rgb(255, 255, 255)") >= 3
        header_link = page.locator(".site-nav a").first
        header_link.focus()
        header_ring = header_link.evaluate("e => getComputedStyle(e).outlineColor")
        header_background = page.locator(".site-header").evaluate(
            "e => getComputedStyle(e).backgroundColor"
        )
        assert contrast(header_ring, header_background) >= 3
    finally:
        page.close()
