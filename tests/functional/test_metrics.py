"""/metrics: the page cache's bytes, entries, bound, hits and misses, behind a Bearer token."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.helpers.apps import app_for
from wheelyard.config import Settings
from wheelyard.data.package import Package


def samples(text: str) -> dict[str, float]:
    """Each sample's value by name, checking every one is this worker's."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert sample.labels == {"pid": str(os.getpid())}
            found[sample.name] = sample.value
    return found


def test_the_page_cache_is_measured(client: TestClient, package: Package) -> None:
    before = samples(client.get("/metrics").text)
    assert before["wheelyard_page_cache_entries"] == 0
    assert before["wheelyard_page_cache_limit_bytes"] == 256 * 1024 * 1024

    page = client.get("/simple/demo/")
    client.get("/simple/demo/")  # from the cache
    response = client.get("/metrics")

    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["cache-control"] == "no-store"
    after = samples(response.text)
    assert after["wheelyard_page_cache_entries"] >= 1
    assert after["wheelyard_page_cache_bytes"] >= len(page.content)
    assert after["wheelyard_page_cache_hits_total"] - before["wheelyard_page_cache_hits_total"] == 1
    assert after["wheelyard_page_cache_misses_total"] > before["wheelyard_page_cache_misses_total"]


@pytest.fixture
def bounded_app(settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
    return app_for(replace(settings, page_cache_bytes=4096, metrics_token="scrape-me"), sessions)


def test_the_bound_is_the_setting_and_a_token_guards_it(bounded_app: Starlette) -> None:
    with TestClient(bounded_app, base_url="http://testserver") as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert samples(response.text)["wheelyard_page_cache_limit_bytes"] == 4096


def test_a_private_index_lets_the_scraper_in_with_its_token(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    app = app_for(replace(settings, private=True, metrics_token="scrape-me"), sessions)
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/metrics").status_code == 401
        response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert "wheelyard_page_cache_bytes" in response.text
