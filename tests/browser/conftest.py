"""Headless Chromium for the browser tests, which skip without it unless CI requires it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM}"
        if os.environ.get("WHEELYARD_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and WHEELYARD_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def chromium(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True)
        try:
            yield browser
        finally:
            browser.close()
