"""The upstream JSON API document's URL, and how it is rewritten for our clients."""

from __future__ import annotations

import datetime as dt
import json

from wheelyard.services.upstream.json_documents import CachedDocument, document_url, render
from wheelyard.services.upstream.policy import Policy
from wheelyard.services.upstream.sources import Upstream

NOW = dt.datetime(2026, 12, 10, 12, 0, 0)


def entry(filename: str, uploaded: str) -> dict[str, str]:
    return {
        "filename": filename,
        "url": f"https://files.example/{filename}",
        "upload_time_iso_8601": uploaded,
    }


BODY = {
    "info": {"name": "demo", "version": "2.0"},
    "releases": {
        "1.0": [entry("demo-1.0.tar.gz", "2026-01-01T00:00:00.000000Z")],
        "2.0": [entry("demo-2.0.tar.gz", "2026-12-10T11:00:00.000000Z")],
        "0.1": [],
    },
    "urls": [entry("demo-2.0.tar.gz", "2026-12-10T11:00:00.000000Z")],
}
DOCUMENT = CachedDocument("demo", "https://up/simple/", None, json.dumps(BODY), NOW)


def test_the_document_lives_at_the_index_root() -> None:
    assert document_url(Upstream("https://up.example/simple/"), "demo") == (
        "https://up.example/pypi/demo/json"
    )
    assert document_url(Upstream("https://up.example/a/simple/"), "x") == (
        "https://up.example/a/pypi/x/json"
    )
    assert document_url(Upstream("https://up.example/index/"), "demo") is None


def test_file_urls_point_here_relative_or_under_the_public_url() -> None:
    body, held = render(DOCUMENT, "../../", Policy(), NOW)
    data = json.loads(body)
    assert held == 0
    assert data["releases"]["1.0"][0]["url"] == "../../packages/upstream/demo/demo-1.0.tar.gz"
    assert data["urls"][0]["url"] == "../../packages/upstream/demo/demo-2.0.tar.gz"
    body, _ = render(DOCUMENT, "https://pypi.example.org/", Policy(), NOW)
    assert json.loads(body)["urls"][0]["url"].startswith("https://pypi.example.org/packages/")


def test_held_files_and_releases_left_without_files_are_dropped() -> None:
    body, held = render(DOCUMENT, "../../", Policy(min_age_seconds=86400), NOW)
    data = json.loads(body)
    assert held == 1
    assert set(data["releases"]) == {"1.0", "0.1"}
    assert data["urls"] == []
